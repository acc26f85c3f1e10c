#!/usr/bin/env bash
# Installs what the end-to-end suite (test/e2e) needs on a bare Debian machine with Node 20:
#   - Debian packages: Chromium (the browser playwright-core drives), ripgrep (replaces a binary
#     VS Code would download) and the headers code-server's native modules build against;
#   - code-server (real VS Code in the browser) in a folder of its own, $E2E_TOOLS_DIR/code-server
#     (default .e2e/code-server, git-ignored). It is a test tool, never a dependency of the
#     extension, so it has its own package.json there.
# playwright-core itself is a devDependency of the project (installed by `npm ci`).
#
# Idempotent, and fast when everything is already there. Only the npm registry and Debian's
# packages are reachable, so nothing here may download a prebuilt binary: @vscode/test-electron
# and the `playwright` package download VS Code and browsers, so code-server (which bundles VS
# Code) comes from npm, Chromium from Debian, and ripgrep's download is served from a seeded cache.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
tools_dir="${E2E_TOOLS_DIR:-$repo/.e2e}"
cs_version="4.100.3"
cs_dir="$tools_dir/code-server"
cs_stamp="$cs_dir/.installed-$cs_version"
cs_pkg="$cs_dir/node_modules/code-server"
cs_bin="$cs_dir/node_modules/.bin/code-server"
apt_packages=(chromium ripgrep libkrb5-dev pkg-config libsecret-1-dev libx11-dev libxkbfile-dev)

log() { printf '[e2e-setup] %s\n' "$*"; }

# `code-server --version`, run so that it writes nothing into the user's home (without a config
# it creates ~/.config/code-server/config.yaml and ~/.local/share/code-server/coder-logs).
code_server_version() {
  local scratch out
  scratch="$(mktemp -d)"
  out="$(XDG_CONFIG_HOME="$scratch/config" XDG_DATA_HOME="$scratch/data" \
    "$cs_bin" --config "$scratch/config.yaml" --version 2>&1 | grep -E '^[0-9]+\.[0-9]+\.[0-9]+ ' || true)"
  rm -rf "$scratch"
  printf '%s' "$out"
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else log "need root for: $*"; return 1
  fi
}

# ---- 1. Debian packages -------------------------------------------------------------------------
missing=()
for pkg in "${apt_packages[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  # Another process may hold the dpkg lock (a second setup script, unattended upgrades): wait.
  apt_get=(apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
  as_root env DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" update -qq
  as_root env DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq --no-install-recommends \
    "${missing[@]}"
else
  log "Debian packages present"
fi

# ---- 2. ripgrep cache for @vscode/ripgrep ---------------------------------------------------------
# @vscode/ripgrep's install script downloads ripgrep from GitHub unless its cache already holds the
# archive. Seed that cache with Debian's rg so any install that does run the script stays offline.
rg_cache="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-1.15.11"
rg_archive="$rg_cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [ ! -s "$rg_archive" ]; then
  log "seeding ripgrep cache $rg_archive"
  rg_tmp="$(mktemp -d)"
  mkdir -p "$rg_cache"
  cp /usr/bin/rg "$rg_tmp/rg"
  tar czf "$rg_archive.tmp" -C "$rg_tmp" rg && mv "$rg_archive.tmp" "$rg_archive"
  rm -rf "$rg_tmp"
fi

# ---- 3. code-server ------------------------------------------------------------------------------
if [ -f "$cs_stamp" ] && [ -x "$cs_bin" ]; then
  log "code-server $cs_version present in $cs_dir"
  log "code-server --version: $(code_server_version)"
  exit 0
fi

log "installing code-server $cs_version into $cs_dir"
started=$SECONDS
# A half-finished earlier attempt is not worth repairing: start from an empty folder.
rm -rf "$cs_dir"
mkdir -p "$cs_dir"
cat >"$cs_dir/package.json" <<'JSON'
{
  "name": "kiro-bridge-e2e-tools",
  "description": "Test tools for Kiro Bridge's end-to-end suite; written by scripts/e2e-setup.sh",
  "private": true
}
JSON

# CI runs as root: npm then drops privileges for scripts unless unsafe-perm; node-pty's build
# calls npx, which would otherwise stop at a prompt.
export npm_config_unsafe_perm=true npm_config_yes=true npm_config_audit=false npm_config_fund=false
export npm_config_update_notifier=false JOBS="${JOBS:-max}"
npm_quiet=(--loglevel=error --no-progress)

# 3a. code-server without its install scripts (its postinstall runs a plain `npm install` in
# lib/vscode, which downloads prebuilt binaries); argon2 then falls back to building from source.
(cd "$cs_dir" && npm install "${npm_quiet[@]}" --save-exact --ignore-scripts "code-server@$cs_version")
(cd "$cs_dir" && npm rebuild "${npm_quiet[@]}" argon2)

# 3b. VS Code's own dependencies, again without scripts; ripgrep comes from Debian and the native
# modules are built locally against the machine's Node headers.
(
  cd "$cs_pkg/lib/vscode"
  npm install "${npm_quiet[@]}" --omit=dev --ignore-scripts
  mkdir -p node_modules/@vscode/ripgrep/bin
  cp /usr/bin/rg node_modules/@vscode/ripgrep/bin/rg
  npm rebuild "${npm_quiet[@]}" kerberos @parcel/watcher @vscode/deviceid @vscode/spdlog native-watchdog node-pty
)

# 3c. What code-server's postinstall.sh does after its npm install.
(
  cd "$cs_pkg/lib/vscode"
  ln -sfn node_modules node_modules.asar
  ln -sfn code-linux.sh bin/remote-cli/code-server
  ln -sfn browser-linux.sh bin/helpers/browser.sh
  cd extensions
  npm install "${npm_quiet[@]}" --omit=dev
)

# 3d. Prove it starts before declaring it installed.
version="$(code_server_version)"
case "$version" in
  "$cs_version "*) ;;
  *) log "code-server --version printed '$version', expected $cs_version"; exit 1 ;;
esac
touch "$cs_stamp"
log "code-server --version: $version"
log "code-server installed in $((SECONDS - started)) s"
