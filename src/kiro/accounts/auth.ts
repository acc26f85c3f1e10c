// Access tokens for one account: refresh Social and IdC tokens ahead of expiry,
// one refresh at a time however many requests wait (single flight), adopt a rotated refresh
// token, and stop at once when the refresh token itself is rejected (`needs_sign_in`): a
// rejected refresh token never fixes itself, and hammering the endpoint only risks the account.
import { request, type Dispatcher } from 'undici';
import type { Logger } from '../../common/logger';
import { nullLogger } from '../../common/logger';
import type { Redactor } from '../../common/redact';
import type { OAuthCredentials } from './credentials';
import type { KiroEndpoints } from '../http/endpoints';
import { KiroError, classifyNetworkError, classifyRefreshFailure } from '../errors';
import { IDC_AMZ_USER_AGENT, socialRefreshUserAgent } from '../http/identity';
import { readLimited } from '../http/read-limited';

export interface AccessToken {
  /** The bearer for data-plane calls. */
  value: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  /** Refresh once less than this is left. */
  marginMs: number;
  /** `API_KEY` when the bearer is a Kiro API key: every call then adds `tokentype: API_KEY`. */
  tokenType?: 'API_KEY';
}

export type TokenState = 'unknown' | 'valid' | 'refreshing' | 'needs_sign_in';

type Listener<T> = (value: T) => void;

/**
 * The bearer source of one account, as the pool, the usage checks and the accounts service use
 * it: a TokenManager for logins that refresh, ApiKeyTokens (./api-key-tokens) for Kiro API keys.
 */
export interface AccountTokens {
  readonly state: TokenState;
  /** The refresh token in use; undefined for an API key (nothing to refresh). */
  readonly refreshToken: string | undefined;
  /** The profile ARN the login itself named (a Social refresh), or the configured one. */
  readonly profileArn: string | undefined;
  /** The access token in hand, if any. */
  readonly currentToken: AccessToken | undefined;
  /** How many refresh calls went out. */
  readonly refreshCount: number;
  getToken(): Promise<AccessToken>;
  /** The upstream rejected `rejected`: a new token, or a `needs_sign_in` KiroError. */
  refreshAfterRejection(rejected: AccessToken): Promise<AccessToken>;
  refresh(): Promise<AccessToken>;
  adopt(tokens: AdoptedTokens): boolean;
  onDidRotateRefreshToken(listener: Listener<string>): () => void;
  onDidChangeState(listener: Listener<TokenState>): () => void;
  onDidRefresh(listener: Listener<AccessToken>): () => void;
}

export interface TokenManagerOptions {
  credentials: OAuthCredentials;
  endpoints: KiroEndpoints;
  dispatcher: Dispatcher;
  machineId: string;
  /** Masked account label for errors and logs. */
  label: string;
  redactor?: Redactor;
  logger?: Logger;
  now?: () => number;
  /** Refresh when the token has less than this left (5 minutes, as most clients do). */
  expiryMarginMs?: number;
  /** Give up on one refresh call after this long. */
  refreshTimeoutMs?: number;
  /**
   * Asked inside the single flight before every refresh call (with the token Kiro rejected, if
   * that is why): a chance to `adopt` a token another client already holds — the Kiro IDE's
   * file, another window's saved entry — so the bridge does not refresh, and perhaps rotate, a
   * login someone else is still using. Failures are logged and the refresh goes ahead.
   */
  beforeRefresh?: (rejected: AccessToken | undefined) => Promise<void>;
}

/** Tokens someone else obtained for this account (see TokenManager.adopt). */
export interface AdoptedTokens {
  refreshToken?: string;
  accessToken?: string;
  /** Epoch ms; an access token is adopted only with its expiry. */
  expiresAt?: number;
  profileArn?: string;
}

interface RefreshAnswer {
  accessToken?: unknown;
  expiresIn?: unknown;
  refreshToken?: unknown;
  profileArn?: unknown;
}

const DEFAULT_MARGIN_MS = 5 * 60_000;
const DEFAULT_LIFETIME_S = 3600;
const MAX_ERROR_BODY = 16 * 1024;

export class TokenManager implements AccountTokens {
  private current: AccessToken | undefined;
  private inflight: Promise<AccessToken> | undefined;
  private signInError: KiroError | undefined;
  private refreshTokenValue: string;
  private profileArnValue: string | undefined;
  private stateValue: TokenState = 'unknown';
  private readonly rotationListeners = new Set<Listener<string>>();
  private readonly stateListeners = new Set<Listener<TokenState>>();
  private readonly refreshListeners = new Set<Listener<AccessToken>>();
  private readonly now: () => number;
  private readonly marginMs: number;
  private readonly timeoutMs: number;
  private readonly logger: Logger;
  /** How many refresh calls went out (diagnostics and tests of single flight). */
  refreshCount = 0;

  constructor(private readonly options: TokenManagerOptions) {
    this.refreshTokenValue = options.credentials.refreshToken;
    this.profileArnValue = options.credentials.profileArn;
    this.now = options.now ?? Date.now;
    this.marginMs = options.expiryMarginMs ?? DEFAULT_MARGIN_MS;
    this.timeoutMs = options.refreshTimeoutMs ?? 30_000;
    this.logger = options.logger ?? nullLogger;
    options.redactor?.add(this.refreshTokenValue);
    options.redactor?.add(options.credentials.clientSecret);
  }

  get state(): TokenState {
    return this.stateValue;
  }

  /** The refresh token in use (the rotated one once Kiro rotated it). */
  get refreshToken(): string {
    return this.refreshTokenValue;
  }

  /** The profile ARN Kiro returned on refresh (Social), or the configured one. */
  get profileArn(): string | undefined {
    return this.profileArnValue;
  }

  /** Called with the new refresh token whenever Kiro rotates it (so it can be persisted). */
  onDidRotateRefreshToken(listener: Listener<string>): () => void {
    this.rotationListeners.add(listener);
    return () => this.rotationListeners.delete(listener);
  }

  onDidChangeState(listener: Listener<TokenState>): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /** Called with each access token a refresh of ours obtained (so other windows can reuse it). */
  onDidRefresh(listener: Listener<AccessToken>): () => void {
    this.refreshListeners.add(listener);
    return () => this.refreshListeners.delete(listener);
  }

  /** The access token in hand, if any (for persisting; may be near its expiry). */
  get currentToken(): AccessToken | undefined {
    return this.current;
  }

  /**
   * Takes tokens another client obtained for this login: a different refresh token replaces ours
   * (and lifts a sign-in failure, since the new one may work); an access token is used if it
   * lives longer than the one in hand. Returns whether anything changed. Nothing is refreshed and
   * no rotation listener fires: the caller already knows about these tokens.
   */
  adopt(tokens: AdoptedTokens): boolean {
    let changed = false;
    if (tokens.refreshToken && tokens.refreshToken !== this.refreshTokenValue) {
      this.options.redactor?.add(tokens.refreshToken);
      this.refreshTokenValue = tokens.refreshToken;
      this.signInError = undefined;
      changed = true;
    }
    if (tokens.profileArn && tokens.profileArn !== this.profileArnValue) this.profileArnValue = tokens.profileArn;
    if (tokens.accessToken && tokens.expiresAt !== undefined && tokens.accessToken !== this.current?.value) {
      const left = tokens.expiresAt - this.now();
      if (left > 0 && (!this.current || tokens.expiresAt > this.current.expiresAt)) {
        this.options.redactor?.add(tokens.accessToken);
        // The token it replaces is no longer ours to hide (as after a refresh): the redactor's
        // set stays the size of what is in use.
        if (this.current) this.options.redactor?.remove(this.current.value);
        this.current = { value: tokens.accessToken, expiresAt: tokens.expiresAt, marginMs: Math.min(this.marginMs, left / 2) };
        changed = true;
      }
    }
    if (changed && !this.inflight) this.setState(this.current ? 'valid' : 'unknown');
    return changed;
  }

  /** A token with at least the expiry margin left, refreshing first if needed. */
  async getToken(): Promise<AccessToken> {
    if (this.signInError) throw this.signInError;
    const token = this.current;
    if (token && token.expiresAt - this.now() > token.marginMs) return token;
    return this.refresh();
  }

  /**
   * The upstream rejected `rejected` (401/403 bearer invalid): refresh unless another request
   * already replaced it, so late waiters do not rotate a freshly refreshed token again.
   */
  async refreshAfterRejection(rejected: AccessToken): Promise<AccessToken> {
    if (this.signInError) throw this.signInError;
    if (this.current && this.current.value !== rejected.value) return this.current;
    this.current = undefined;
    return this.refresh(rejected);
  }

  /** Refreshes now, joining a refresh already in flight. */
  refresh(rejected?: AccessToken): Promise<AccessToken> {
    if (this.signInError) return Promise.reject(this.signInError);
    if (!this.inflight) {
      this.setState('refreshing');
      this.inflight = this.refreshUnlessAdopted(rejected).finally(() => {
        this.inflight = undefined;
      });
    }
    return this.inflight;
  }

  /** Gives `beforeRefresh` its chance, then refreshes only if no usable token was adopted. */
  private async refreshUnlessAdopted(rejected: AccessToken | undefined): Promise<AccessToken> {
    if (this.options.beforeRefresh) {
      try {
        await this.options.beforeRefresh(rejected);
      } catch (error) {
        this.logger.debug(`account ${this.options.label}: checking for a newer token failed: ${this.scrub((error as Error)?.message ?? String(error))}`);
      }
      const adopted = this.current;
      if (adopted && adopted.value !== rejected?.value && adopted.expiresAt - this.now() > adopted.marginMs) {
        this.setState('valid');
        this.logger.debug(`account ${this.options.label}: using a token another client already refreshed`);
        return adopted;
      }
    }
    return this.refreshOnce();
  }

  private setState(state: TokenState): void {
    if (state === this.stateValue) return;
    this.stateValue = state;
    for (const listener of this.stateListeners) listener(state);
  }

  private async refreshOnce(): Promise<AccessToken> {
    const { credentials, endpoints, dispatcher, machineId } = this.options;
    const social = credentials.auth === 'Social';
    const url = social ? endpoints.socialRefresh : endpoints.idcRefresh;
    const headers: Record<string, string> = social
      ? {
          accept: 'application/json, text/plain, */*',
          'content-type': 'application/json',
          'user-agent': socialRefreshUserAgent(machineId),
          connection: 'close',
        }
      : {
          'content-type': 'application/json',
          'x-amz-user-agent': IDC_AMZ_USER_AGENT,
          accept: '*/*',
          'accept-language': '*',
          'sec-fetch-mode': 'cors',
          'user-agent': 'node',
        };
    const body = social
      ? { refreshToken: this.refreshTokenValue }
      : { clientId: credentials.clientId, clientSecret: credentials.clientSecret, grantType: 'refresh_token', refreshToken: this.refreshTokenValue };

    this.refreshCount++;
    const started = this.now();
    let status: number;
    let text: string;
    try {
      const response = await request(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        dispatcher,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = response.statusCode;
      text = await readLimited(response.body, MAX_ERROR_BODY);
    } catch (error) {
      const failure = classifyNetworkError(error);
      this.setState(this.current ? 'valid' : 'unknown');
      throw new KiroError(failure.errorClass, `token refresh failed: ${failure.message}`, {
        account: this.options.label,
        reason: failure.reason,
        cause: error,
      });
    }

    if (status !== 200) {
      const failure = classifyRefreshFailure(status, this.scrub(text));
      const error = new KiroError(failure.errorClass, failure.message, { status, account: this.options.label });
      if (error.errorClass === 'needs_sign_in') {
        this.signInError = error;
        this.current = undefined;
        this.setState('needs_sign_in');
        this.logger.error(`account ${this.options.label}: ${error.message}`);
      } else {
        this.setState(this.current ? 'valid' : 'unknown');
      }
      throw error;
    }

    let answer: RefreshAnswer;
    try {
      answer = JSON.parse(text) as RefreshAnswer;
    } catch {
      this.setState(this.current ? 'valid' : 'unknown');
      throw new KiroError('upstream_unavailable', 'token refresh answered 200 with a body that is not JSON', { account: this.options.label, status });
    }
    if (typeof answer.accessToken !== 'string' || !answer.accessToken) {
      this.setState(this.current ? 'valid' : 'unknown');
      throw new KiroError('upstream_unavailable', 'token refresh answered 200 without an access token', { account: this.options.label, status });
    }
    // IdC: most clients use accessToken as the data-plane bearer; one proxy prefers idToken. We follow
    // the majority (and the Kiro CLI and the IDE's own SDK, which send the OIDC access token).
    const lifetimeS = typeof answer.expiresIn === 'number' && answer.expiresIn > 0 ? answer.expiresIn : DEFAULT_LIFETIME_S;
    // A token that lives less than twice the margin is refreshed at half its life instead, so a
    // short lifetime never means a refresh per request.
    const token: AccessToken = {
      value: answer.accessToken,
      expiresAt: started + lifetimeS * 1000,
      marginMs: Math.min(this.marginMs, (lifetimeS * 1000) / 2),
    };
    this.options.redactor?.add(token.value);
    if (this.current) this.options.redactor?.remove(this.current.value);
    this.current = token;
    if (typeof answer.profileArn === 'string' && answer.profileArn) this.profileArnValue = answer.profileArn;
    if (typeof answer.refreshToken === 'string' && answer.refreshToken && answer.refreshToken !== this.refreshTokenValue) {
      // Adopt the rotated refresh token; the old one may stop working.
      this.options.redactor?.add(answer.refreshToken);
      this.refreshTokenValue = answer.refreshToken;
      this.logger.info(`account ${this.options.label}: Kiro rotated the refresh token; using the new one`);
      for (const listener of this.rotationListeners) listener(answer.refreshToken);
    }
    this.setState('valid');
    this.logger.debug(`account ${this.options.label}: access token refreshed, valid for ${Math.round(lifetimeS / 60)} min`);
    for (const listener of this.refreshListeners) listener(token);
    return token;
  }

  private scrub(text: string): string {
    return this.options.redactor ? this.options.redactor.text(text) : text;
  }
}
