// One Kiro account: its credentials, its token state, its own connection pool and its stable
// machineId. The account pool (./account-pool) holds several of these and is what the bridge
// asks for accounts (AccountProvider there). Connections are never shared between accounts (one
// proxy operator tied suspensions to one TCP connection serving many accounts).
import { Agent, type Dispatcher } from 'undici';
import type { Logger } from '../../common/logger';
import { maskSecret, type Redactor } from '../../common/redact';
import type { IDisposable } from '../../common/disposable';
import { ApiKeyTokens } from './api-key-tokens';
import { TokenManager, type AccessToken, type AccountTokens, type TokenManagerOptions, type TokenState } from './auth';
import { longLivedSecret, type AccountCredentials } from './credentials';
import { AccountProfile } from './profile';
import { dispatcherPost } from '../http/dispatcher-post';
import { kiroEndpoints, regionFromProfileArn, type KiroEndpoints } from '../http/endpoints';
import { deriveApiKeyMachineId, deriveMachineId } from '../http/identity';
import { profileDiscoveryHosts } from '../signin/endpoints';
import { listAvailableProfiles } from '../signin/profiles';
import { meteredCredits } from '../metering';

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
  /** Masked label safe for logs and the traffic view: "Social aor…x7Qz", "API key ksk…6d8e". */
  readonly label: string;
  readonly machineId: string;
  readonly dispatcher: Dispatcher;
  readonly tokens: AccountTokens;
  /** Which profile ARN the account sends, and where (./profile). */
  readonly profile: AccountProfile;
  private endpointsValue: KiroEndpoints;
  private disposed = false;

  constructor(readonly options: KiroAccountOptions) {
    const { credentials } = options;
    const secret = longLivedSecret(credentials);
    this.label = `${credentials.auth === 'ApiKey' ? 'API key' : credentials.auth} ${maskSecret(secret)}`;
    this.machineId = credentials.auth === 'ApiKey' ? deriveApiKeyMachineId(credentials.machineId, secret) : deriveMachineId(credentials.machineId, secret);
    this.endpointsValue = this.endpointsFor(credentials.profileArn);
    this.dispatcher =
      options.createDispatcher?.() ??
      new Agent({
        keepAliveTimeout: options.keepAliveMs ?? 30_000,
        connections: options.maxConnections ?? 64,
        // Streams are long; idle limits are set per call by the client.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
    this.tokens =
      credentials.auth === 'ApiKey'
        ? new ApiKeyTokens(credentials.apiKey, this.label, { redactor: options.redactor, logger: options.logger })
        : new TokenManager({
            credentials,
            endpoints: this.endpointsValue,
            dispatcher: this.dispatcher,
            machineId: this.machineId,
            label: this.label,
            redactor: options.redactor,
            logger: options.logger,
            now: options.now,
            beforeRefresh: options.beforeRefresh,
          });
    const post = dispatcherPost(this.dispatcher);
    const hosts = profileDiscoveryHosts(options.upstreamBase);
    this.profile = new AccountProfile(
      credentials,
      this.tokens,
      (token) => listAvailableProfiles({ hosts, accessToken: token.value, machineId: this.machineId, post }),
      this.label,
      { logger: options.logger, now: options.now },
    );
    // A profile found in another region moves the data plane there (the profile selects the host).
    this.profile.onDidChange((change) => {
      if (change.profileArn) this.endpointsValue = this.endpointsFor(change.profileArn);
    });
  }

  /** Where this account's calls go; follows the profile's region once it is known. */
  get endpoints(): KiroEndpoints {
    return this.endpointsValue;
  }

  private endpointsFor(profileArn: string | undefined): KiroEndpoints {
    const { credentials } = this.options;
    return kiroEndpoints({
      upstreamBase: this.options.upstreamBase,
      region: credentials.region ?? regionFromProfileArn(profileArn) ?? this.options.region,
      dataRegion: regionFromProfileArn(profileArn),
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
    const credits = meteredCredits(json);
    if (!credits) return; // nothing charged (or nothing readable): nothing to count
    for (const listener of this.meterListeners) listener(credits);
  }

  get credentials(): AccountCredentials {
    return this.options.credentials;
  }

  /** Whether the account authenticates with a Kiro API key (nothing to refresh). */
  get isApiKey(): boolean {
    return this.options.credentials.auth === 'ApiKey';
  }

  get tokenState(): TokenState {
    return this.tokens.state;
  }

  /** A token with its expiry margin left, refreshing first if needed; the profile is looked up if missing. */
  async getToken(): Promise<AccessToken> {
    const token = await this.tokens.getToken();
    await this.profile.ensure(token);
    return token;
  }

  /** Kiro rejected `rejected`: a refreshed token, or a `needs_sign_in` KiroError (a refused API key). */
  async refreshAfterRejection(rejected: AccessToken): Promise<AccessToken> {
    const token = await this.tokens.refreshAfterRejection(rejected);
    await this.profile.ensure(token);
    return token;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.dispatcher.destroy().catch(() => undefined);
  }
}
