// Redaction: the one place that knows what a secret looks like. Everything that can leave the
// process (log lines, traffic records for the webview, error messages, repro bundles) passes
// through here. Two nets: known secret values registered at run time (the client API key, each
// account's tokens), and patterns for secrets we were never told about.

export const REDACTED = '[REDACTED]';

/** Object keys whose values are secrets whatever they look like (compared case-insensitively). */
const SECRET_KEY =
  /^(authorization|proxy-authorization|x-api-key|x-amz-security-token|cookie|set-cookie|(x-[a-z0-9-]+-|kiro[-_]?)?api[-_]?key|apikey|(access|refresh|id|session|bearer|auth)[-_]?token|token|client[-_]?secret|client[-_]?assertion|secret|(aws[-_]?)?secret[-_]?access[-_]?key|password|passwd|code[-_]?verifier|device[-_]?code|private[-_]?key)$/i;

/** Field names that mark a secret inside JSON text (plain or escaped once). */
const SECRET_JSON_FIELD =
  'access_?token|refresh_?token|id_?token|session_?token|client_?secret|(?:kiro_?)?api_?key|x-api-key|authorization|proxy-authorization|cookie|code_?verifier|device_?code|password|secret_?access_?key|private_?key';

/** Header names whose value is a secret when they appear as a `Name: value` line of text. */
const SECRET_HEADER_LINE =
  /\b(authorization|proxy-authorization|x-api-key|x-goog-api-key|api-key|x-amz-security-token|cookie|set-cookie)(\s*:[ \t]*)(?!\[REDACTED\])[^\s"\\][^\r\n"\\]*/gi;

const PATTERNS: [RegExp, string][] = [
  // Authorization header values.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=:-]{8,}/gi, `$1 ${REDACTED}`],
  // Kiro access / refresh tokens (observed to start aoa / aor) and similar opaque tokens.
  [/\bao[ar][A-Za-z0-9._~+/=:-]{16,}/g, REDACTED],
  // JWTs (id tokens).
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, REDACTED],
  // Kiro API keys (`ksk_…`, Kiro CLI headless mode): the prefix is distinctive, so even a short
  // key is caught.
  [/\bksk_[A-Za-z0-9_-]{6,}/g, REDACTED],
  // API keys in common shapes (ours are kb-…, OpenAI/Anthropic style sk-…).
  [/\b(kb|sk|sk-ant|ksk)[-_][A-Za-z0-9_-]{16,}/g, REDACTED],
  // Other vendors' tokens users paste into prompts: GitHub, GitLab, Slack, Google API keys.
  [/\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35})/g, REDACTED],
  // AWS access key ids (long-term and temporary).
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/g, REDACTED],
  // JSON or query text that names a secret field.
  [new RegExp(`("(?:${SECRET_JSON_FIELD})"\\s*:\\s*")([^"\\\\]|\\\\.)*"`, 'gi'), `$1${REDACTED}"`],
  // The same inside JSON that was itself embedded in a JSON string (quotes escaped once).
  [new RegExp(`(\\\\"(?:${SECRET_JSON_FIELD})\\\\"\\s*:\\s*\\\\")((?!\\\\").)*\\\\"`, 'gi'), `$1${REDACTED}\\"`],
  // `Authorization: …`, `x-api-key: …`, `Cookie: …` lines in logs, errors and raw header dumps.
  [SECRET_HEADER_LINE, `$1$2${REDACTED}`],
  [/([?&](?:access_token|refresh_token|id_token|client_secret|code|code_verifier|api_key|key)=)[^&\s#]+/gi, `$1${REDACTED}`],
];

/**
 * A redactor knows the exact secret values in play (registered as they are loaded) on top of the
 * generic patterns. Keep one per process and hand it to every sink.
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  /** Registers an exact secret value (ignored if too short to be one). */
  add(secret: string | undefined | null): void {
    if (secret && secret.length >= 8) this.secrets.add(secret);
  }

  remove(secret: string | undefined | null): void {
    if (secret) this.secrets.delete(secret);
  }

  text(input: string): string {
    let out = input;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    return out;
  }

  /** A deep copy of `value` with secret-named fields replaced and every string scrubbed. */
  value<T>(value: T): T {
    return this.walk(value, new WeakSet()) as T;
  }

  private walk(value: unknown, seen: WeakSet<object>): unknown {
    if (typeof value === 'string') return this.text(value);
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return '[Circular]';
    seen.add(value);
    if (Array.isArray(value)) return this.walkArray(value, seen);
    if (value instanceof Error) return { name: value.name, message: this.text(value.message) };
    if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = SECRET_KEY.test(key) && v !== null && v !== undefined && v !== '' ? REDACTED : this.walk(v, seen);
    }
    return out;
  }

  /**
   * Header lists come as `[name, value]` pairs (fetch `Headers` entries) or flat
   * `[name, value, name, value]` (node's `rawHeaders`): a value that follows a secret header
   * name is a secret whatever it looks like.
   */
  private walkArray(value: unknown[], seen: WeakSet<object>): unknown[] {
    const flatHeaders = value.length % 2 === 0 && value.every((v) => typeof v === 'string');
    return value.map((v, i) => {
      if (flatHeaders && i % 2 === 1 && SECRET_KEY.test(value[i - 1] as string) && v !== '') return REDACTED;
      if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && SECRET_KEY.test(v[0]) && v[1]) {
        return [v[0], REDACTED];
      }
      return this.walk(v, seen);
    });
  }
}

/** A process-wide redactor for code that has no better one at hand. */
export const defaultRedactor = new Redactor();

/** Shows enough of a secret to tell two apart, never enough to use: `aor…x7Qz`. */
export function maskSecret(secret: string | undefined | null): string {
  if (!secret) return '(none)';
  if (secret.length <= 8) return '…';
  return `${secret.slice(0, 3)}…${secret.slice(-4)}`;
}
