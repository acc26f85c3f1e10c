// One Kiro account: its credentials, its token state, its own connection pool and its stable
// machineId. The pool of a later issue holds several of these; nothing here assumes there is
// only one. Connections are never shared between accounts (XW links suspensions to one TCP
// connection serving many accounts).
import { Agent, type Dispatcher } from 'undici';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../common/logger';
import { maskSecret, type Redactor } from '../common/redact';
import type { IDisposable } from '../common/disposable';
import { TokenManager, type AccessToken, type TokenState } from './auth';
import type { AccountCredentials } from './credentials';
import { kiroEndpoints, regionFromProfileArn, type KiroEndpoints } from './endpoints';
import { deriveMachineId } from './identity';

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
   * Builds this account's own dispatcher (e.g. a proxy agent from kiro/proxy); default: a plain
   * undici Agent with the keep-alive and connection limits above. Called once per account, so no
   * connection is shared between accounts either way.
   */
  createDispatcher?: () => Dispatcher;
}

export class KiroAccount implements IDisposable {
  /** Stable id for the process's lifetime (not a secret). */
  readonly id = randomUUID();
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
    });
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

/**
 * Where the bridge gets an account for a request. Today one account; the pool implements the
 * same interface later (selection, fail-over, cooldowns).
 */
export interface AccountProvider {
  /** An account to serve the next request, or undefined when none is configured / usable. */
  acquire(): KiroAccount | undefined;
  /** Every account, for status displays. */
  all(): readonly KiroAccount[];
  /** Why `acquire` would give nothing, for the client's error message. */
  unavailableReason(): string;
}

export class SingleAccountProvider implements AccountProvider, IDisposable {
  constructor(
    private readonly account: KiroAccount | undefined,
    private readonly missingReason = 'no Kiro account is configured (set KIRO_AUTH_TOKEN)',
  ) {}

  acquire(): KiroAccount | undefined {
    return this.account;
  }

  all(): readonly KiroAccount[] {
    return this.account ? [this.account] : [];
  }

  unavailableReason(): string {
    return this.missingReason;
  }

  async dispose(): Promise<void> {
    await this.account?.dispose();
  }
}
