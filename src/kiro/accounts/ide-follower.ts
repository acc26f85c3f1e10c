// Follows the Kiro IDE's login for accounts imported from it: when the IDE writes its token file
// (it refreshed or rotated the login), the bridge adopts the new tokens instead of refreshing on
// its own, so neither side logs the other out.
import type { IDisposable } from '../../common/disposable';
import type { AccountsContext } from './accounts-context';
import { KiroIdeWatcher, readKiroIdeLogin, type KiroIdeLogin } from './kiro-ide';
import { sameLogin, type TokenKeeper } from './token-keeper';

export class KiroIdeFollower implements IDisposable {
  private readonly watchers = new Map<string, KiroIdeWatcher>();

  constructor(
    private readonly ctx: AccountsContext,
    private readonly tokens: TokenKeeper,
    /** Off: imported accounts are not followed (tests, one-shot CLI commands). */
    private readonly enabled: boolean,
  ) {}

  /** Starts watching the IDE's login folder `cacheDir` (once per folder). */
  watch(cacheDir: string): void {
    if (!this.enabled || this.watchers.has(cacheDir) || this.ctx.isDisposed()) return;
    this.watchers.set(cacheDir, new KiroIdeWatcher(cacheDir, () => void this.onFileChange(cacheDir)));
  }

  /** The IDE wrote its token file: adopt a token it refreshed or rotated (so we never log it out). */
  async onFileChange(cacheDir: string): Promise<void> {
    const { ctx } = this;
    if (ctx.isDisposed()) return;
    let login: KiroIdeLogin;
    try {
      login = await readKiroIdeLogin(cacheDir, ctx.now());
    } catch (error) {
      ctx.logger.debug(`Kiro IDE login file not usable right now: ${ctx.redactor.text((error as Error).message)}`);
      return;
    }
    // Its tokens reach the redactor only if an account adopts them (TokenKeeper.adoptTokens): the
    // file may be another login's, and it is rewritten at every IDE refresh.
    for (const entry of [...ctx.pool.entries()]) {
      if (entry.source !== 'kiro-ide') continue;
      const record = await ctx.store.get(entry.id);
      if (!record || record.ideCacheDir !== cacheDir || !sameLogin(record, login)) continue;
      if (this.tokens.adoptTokens(entry, login)) await this.tokens.saveAdoptedRefreshToken(entry, 'the Kiro IDE');
      ctx.changed();
    }
  }

  dispose(): void {
    for (const watcher of this.watchers.values()) watcher.dispose();
    this.watchers.clear();
  }
}
