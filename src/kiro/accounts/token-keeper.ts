// Keeps each saved account's tokens on disk and in step with other holders of the same login.
// A rotated refresh token is written with the one it replaces, retrying until it is saved (the
// token in memory keeps working meanwhile); an access token a refresh obtained is saved for other
// windows and processes. Before a refresh, the saved entry and the Kiro IDE's file may hold newer
// tokens, which are adopted instead — but never a refresh token this account has moved past
// (its sha256 is remembered), so a stale copy cannot bring a dead token back. A profile the
// account looked up is saved with it too. (A Kiro API key has no tokens to keep: only its profile
// notes apply.)
import { createHash } from 'node:crypto';
import type { AccountsContext } from './accounts-context';
import type { KiroAccount } from './account';
import type { AccessToken, AdoptedTokens } from './auth';
import type { PooledAccount } from './account-pool';
import type { StoredAccount } from './account-store';
import { readKiroIdeLogin, type KiroIdeLogin } from './kiro-ide';
import type { ProfileChange } from './profile';

const MAX_PERSIST_DELAY_MS = 60_000;
/** Retired refresh-token hashes kept per account. */
const MAX_RETIRED = 8;

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class TokenKeeper {
  /** Per account: sha256 of refresh tokens it has moved past (never adopted back from a stale copy). */
  private readonly retired = new Map<string, Set<string>>();
  /** Per account: the refresh token in use (what a rotation retires). */
  private readonly currentRefresh = new Map<string, string>();

  constructor(private readonly ctx: AccountsContext) {}

  /** Starts keeping the tokens (and profile) of a saved account that just joined the pool. */
  track(record: StoredAccount, entry: PooledAccount): void {
    const { account } = entry;
    account.profile.onDidChange((change) => void this.persistProfile(entry, change));
    const refreshToken = account.tokens.refreshToken;
    if (refreshToken === undefined) return;
    const retired = new Set(record.retiredTokenHashes ?? []);
    if (record.previousRefreshToken) retired.add(tokenHash(record.previousRefreshToken));
    this.retired.set(record.id, retired);
    this.currentRefresh.set(record.id, refreshToken);
    account.tokens.onDidRotateRefreshToken((token) => {
      const before = this.currentRefresh.get(record.id);
      if (before) retired.add(tokenHash(before));
      this.currentRefresh.set(record.id, token);
      void this.persistRotation(entry, token);
    });
    account.tokens.onDidRefresh((token) => void this.persistAccessToken(entry, token.value, token.expiresAt));
  }

  /** Forgets an account that left the pool. */
  forget(id: string): void {
    this.currentRefresh.delete(id);
    this.retired.delete(id);
  }

  /** Runs `write` until it succeeds, backing off; the token in memory keeps working meanwhile. */
  async retryPersist(entry: PooledAccount, write: () => Promise<void>, where: string): Promise<void> {
    const { ctx } = this;
    for (let attempt = 0; !ctx.isDisposed(); attempt++) {
      try {
        await write();
        if (attempt > 0) ctx.logger.info(`saved the rotated refresh token of ${entry.label} to ${where}`);
        return;
      } catch (error) {
        const delay = Math.min(MAX_PERSIST_DELAY_MS, 500 * 2 ** attempt);
        ctx.logger.warn(
          `could not save the rotated refresh token of ${entry.label} to ${where} (${ctx.redactor.text((error as Error).message)}); ` +
            `the bridge keeps using it and tries again in ${Math.round(delay / 1000)} s`,
        );
        await new Promise((resolve) => setTimeout(resolve, delay).unref?.());
      }
    }
  }

  /**
   * Takes tokens another client holds for this account: a refresh token we have not moved past,
   * and an access token that lives longer than ours. Returns whether the refresh token changed.
   */
  adoptTokens(entry: PooledAccount, tokens: AdoptedTokens): boolean {
    const retired = this.retired.get(entry.id) ?? new Set<string>();
    const before = entry.account.tokens.refreshToken;
    if (before === undefined) return false;
    const refreshToken = tokens.refreshToken && !retired.has(tokenHash(tokens.refreshToken)) ? tokens.refreshToken : undefined;
    // adopt registers what it takes with the redactor (and drops the access token it replaces);
    // tokens it passes over are never used, so they are not registered.
    entry.account.tokens.adopt({ ...tokens, refreshToken });
    const after = entry.account.tokens.refreshToken;
    const changed = after !== before;
    if (changed && after !== undefined) {
      retired.add(tokenHash(before));
      this.currentRefresh.set(entry.id, after);
      entry.health.clearNeedsSignIn();
      this.ctx.pool.emit({ id: entry.id, persist: true });
    }
    return changed;
  }

  /** TokenManager's beforeRefresh: the saved entry and the Kiro IDE's file may hold newer tokens. */
  async beforeRefresh(account: KiroAccount, _rejected: AccessToken | undefined): Promise<void> {
    const { ctx } = this;
    const entry = ctx.pool.entries().find((e) => e.account === account);
    if (!entry || entry.source === 'env' || ctx.isDisposed()) return;
    const record = await ctx.store.get(entry.id);
    if (!record) return;
    this.adoptTokens(entry, { refreshToken: record.refreshToken, accessToken: record.accessToken, expiresAt: record.accessTokenExpiresAt });
    if (entry.source === 'kiro-ide' && record.ideCacheDir) {
      const login = await readKiroIdeLogin(record.ideCacheDir, ctx.now()).catch(() => undefined);
      if (login && sameLogin(record, login) && this.adoptTokens(entry, login)) await this.saveAdoptedRefreshToken(entry, 'the Kiro IDE');
    }
  }

  /** Writes a refresh token adopted from elsewhere into our own entry (ours is dead now). */
  async saveAdoptedRefreshToken(entry: PooledAccount, from: string): Promise<void> {
    const { ctx } = this;
    const refreshToken = entry.account.tokens.refreshToken;
    ctx.logger.info(`${from} refreshed the login of ${entry.label}; the bridge uses its new token`);
    await ctx.store
      .update(entry.id, (r) =>
        r.refreshToken === refreshToken ? undefined : { ...this.withRefreshToken(r, entry, refreshToken), health: entry.health.persisted() },
      )
      .catch((error: Error) => ctx.logger.warn(`could not save the adopted token of ${entry.label}: ${ctx.redactor.text(error.message)}`));
  }

  /** `record` with `refreshToken` as its current token, the one it replaces kept as the previous. */
  private withRefreshToken(record: StoredAccount, entry: PooledAccount, refreshToken: string | undefined): StoredAccount {
    return {
      ...record,
      previousRefreshToken: record.refreshToken,
      refreshToken,
      retiredTokenHashes: [...(this.retired.get(entry.id) ?? [])].slice(-MAX_RETIRED),
    };
  }

  /** Saves the account's persisted marks (quota exhausted until…, suspended, needs sign-in). */
  async persistHealth(id: string): Promise<void> {
    const { ctx } = this;
    const entry = ctx.pool.get(id);
    if (!entry || entry.source === 'env') return;
    const health = entry.health.persisted();
    try {
      await ctx.store.update(id, (r) => (JSON.stringify(r.health ?? {}) === JSON.stringify(health) ? undefined : { ...r, health }));
    } catch (error) {
      ctx.logger.warn(`could not save the state of ${entry.label}: ${(error as Error).message}`);
    }
  }

  /** Saves what a profile lookup found (the ARN, or that the login is a Builder ID). */
  private async persistProfile(entry: PooledAccount, change: ProfileChange): Promise<void> {
    const { ctx } = this;
    if (entry.source === 'env' || ctx.isDisposed()) return;
    try {
      await ctx.store.update(entry.id, (r) => {
        const profileArn = change.profileArn ?? r.profileArn;
        const provider = change.provider ?? r.provider;
        return profileArn === r.profileArn && provider === r.provider ? undefined : { ...r, profileArn, provider };
      });
    } catch (error) {
      ctx.logger.warn(`could not save the Kiro profile of ${entry.label}: ${(error as Error).message}`);
    }
  }

  /** Saves a rotated refresh token (with the one before it), retrying until it is on disk. */
  private async persistRotation(entry: PooledAccount, refreshToken: string): Promise<void> {
    if (entry.source === 'env') return;
    this.ctx.registerSecrets(refreshToken);
    await this.retryPersist(
      entry,
      async () => {
        await this.ctx.store.update(entry.id, (r) => {
          if (r.refreshToken === refreshToken) return undefined;
          // Still ours? A newer token from elsewhere wins (its rotation happened after ours).
          if (entry.account.tokens.refreshToken !== refreshToken) return undefined;
          const access = entry.account.tokens.currentToken;
          return {
            ...this.withRefreshToken(r, entry, refreshToken),
            accessToken: access?.value ?? r.accessToken,
            accessTokenExpiresAt: access?.expiresAt ?? r.accessTokenExpiresAt,
            profileArn: entry.account.profile.arn ?? r.profileArn,
          };
        });
      },
      'the secret store',
    );
  }

  /** Saves the access token a refresh of ours obtained, so other windows and processes can use it. */
  private async persistAccessToken(entry: PooledAccount, accessToken: string, expiresAt: number): Promise<void> {
    if (entry.source === 'env') return;
    try {
      await this.ctx.store.update(entry.id, (r) =>
        r.accessToken === accessToken
          ? undefined
          : { ...r, accessToken, accessTokenExpiresAt: expiresAt, profileArn: entry.account.profile.arn ?? r.profileArn },
      );
    } catch (error) {
      // Only a convenience for other windows; the token in memory is what this one uses.
      this.ctx.logger.debug(`could not save the access token of ${entry.label}: ${this.ctx.redactor.text((error as Error).message)}`);
    }
  }
}

/** Whether the IDE is still signed in to this account (not someone else's since the import). */
export function sameLogin(record: StoredAccount, login: KiroIdeLogin): boolean {
  if (record.kind !== login.kind) return false;
  if (record.email && login.email && record.email !== login.email) return false;
  // A Social profile ARN names the account; an IdC login its client registration.
  if (record.profileArn && login.profileArn && record.profileArn !== login.profileArn) return false;
  if (record.kind === 'IdC' && record.clientId && login.clientId && record.clientId !== login.clientId) return false;
  return true;
}
