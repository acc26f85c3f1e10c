// One Kiro account: its credentials, its token state, its own connection pool and its stable
// machineId. The account pool (./account-pool) holds several of these and is what the bridge
// asks for accounts (AccountProvider there). Connections are never shared between accounts (XW
// links suspensions to one TCP connection serving many accounts).
import { Agent, type Dispatcher } from 'undici';
import type { Logger } from '../../common/logger';
import { maskSecret, type Redactor } from '../../common/redact';
import type { IDisposable } from '../../common/disposable';
import { TokenManager, type AccessToken, type TokenManagerOptions, type TokenState } from './auth';
import type { AccountCredentials } from './credentials';
import { kiroEndpoints, regionFromProfileArn, type KiroEndpoints } from '../http/endpoints';
import { deriveMachineId } from '../http/identity';

export interface KiroAccountOptions {
  credentials: AccountCredentials;
  /** Replaces every Kiro host (tests, proxies). */
  upstreamBase?: string;
  /** Data-plane region when the account names none. */
  region?: string;
  redactor?: Redactor;
  logger?: Logger;
  now?: () => number;
  /** Idle keep-alive of pooled upstream connections. */
  keepAliveMs?: number;
  /** Most concurrent upstream connections for this account. */
  maxConnections?: number;
  /**
   * Builds this account's own dispatcher (e.g. a proxy agent from kiro/http/proxy); default: a plain
   * undici Agent with the keep-alive and connection limits above. Called once per account, so no
   * connection is shared between accounts either way.
   */
  createDispatcher?: () => Dispatcher;
  /** See TokenManagerOptions.beforeRefresh (the accounts service reads the IDE file and the store). */
  beforeRefresh?: TokenManagerOptions['beforeRefresh'];
}

export class KiroAccount implements IDisposable {
  /** Masked label safe for logs and the traffic view: "Social aor…x7Qz". */
  readonly label: string;
  readonly machineId: string;
  readonly endpoints: KiroEndpoints;
  readonly dispatcher: Dispatcher;
  readonly tokens: TokenManager;
  private disposed = false;

  constructor(readonly options: KiroAccountOptions) {
    const { credentials } = options;
    this.label = `${credentials.auth} ${maskSecret(credentials.refreshToken)}`;
    this.machineId = deriveMachineId(credentials.machineId, credentials.refreshToken);
    this.endpoints = kiroEndpoints({
      upstreamBase: options.upstreamBase,
      region: credentials.region ?? regionFromProfileArn(credentials.profileArn) ?? options.region,
      dataRegion: regionFromProfileArn(credentials.profileArn),
    });
    this.dispatcher =
      options.createDispatcher?.() ??
      new Agent({
        keepAliveTimeout: options.keepAliveMs ?? 30_000,
        connections: options.maxConnections ?? 64,
        // Streams are long; idle limits are set per call by the client.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
    this.tokens = new TokenManager({
      credentials,
      endpoints: this.endpoints,
      dispatcher: this.dispatcher,
      machineId: this.machineId,
      label: this.label,
      redactor: options.redactor,
      logger: options.logger,
      now: options.now,
      beforeRefresh: options.beforeRefresh,
    });
  }

  private readonly meterListeners = new Set<(credits: number) => void>();

  /** Credits each meteringEvent of this account's generate calls reports (the pool counts them). */
  onDidMeter(listener: (credits: number) => void): () => void {
    this.meterListeners.add(listener);
    return () => this.meterListeners.delete(listener);
  }

  /** Called by the generate call for every meteringEvent payload. */
  recordMetering(json: unknown): void {
    const usage = (json as { usage?: unknown } | null)?.usage;
    if (typeof usage !== 'number' || !Number.isFinite(usage) || usage <= 0) return;
    for (const listener of this.meterListeners) listener(usage);
  }

  get credentials(): AccountCredentials {
    return this.options.credentials;
  }

  get profileArn(): string | undefined {
    return this.tokens.profileArn;
  }

  get tokenState(): TokenState {
    return this.tokens.state;
  }

  getToken(): Promise<AccessToken> {
    return this.tokens.getToken();
  }

  /** The current credentials with the latest refresh token and the machineId, for persisting. */
  snapshot(): AccountCredentials {
    return { ...this.options.credentials, refreshToken: this.tokens.refreshToken, machineId: this.machineId, profileArn: this.profileArn };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.dispatcher.destroy().catch(() => undefined);
  }
}
