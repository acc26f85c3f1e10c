// The bearer of a Kiro API key account (docs/kiro-protocol.md#auth-kinds): the key itself, sent
// with `tokentype: API_KEY`. There is nothing to refresh, so a key Kiro rejects (401/403) is final:
// the account needs a new key, and no request ever loops on it. Nothing is persisted here; the key
// lives in the secret store.
import type { Logger } from '../../common/logger';
import { nullLogger } from '../../common/logger';
import type { Redactor } from '../../common/redact';
import { KiroError } from '../errors';
import type { AccessToken, AccountTokens, AdoptedTokens, TokenState } from './auth';

/** The account's sentence once Kiro refused its key (shown beside the account, sent to clients). */
export const API_KEY_REJECTED = 'Kiro rejected the API key; add a new key';

/** An API key does not expire on our side: Kiro says when it stops working. */
const NEVER = Number.MAX_SAFE_INTEGER;

export class ApiKeyTokens implements AccountTokens {
  readonly refreshToken = undefined;
  readonly refreshCount = 0;
  private readonly token: AccessToken;
  private rejectedError: KiroError | undefined;
  private stateValue: TokenState = 'valid';
  private readonly stateListeners = new Set<(state: TokenState) => void>();
  private readonly logger: Logger;

  constructor(
    apiKey: string,
    private readonly label: string,
    options: { redactor?: Redactor; logger?: Logger } = {},
  ) {
    options.redactor?.add(apiKey);
    this.logger = options.logger ?? nullLogger;
    this.token = { value: apiKey, expiresAt: NEVER, marginMs: 0, tokenType: 'API_KEY' };
  }

  get state(): TokenState {
    return this.stateValue;
  }

  /** A key carries no profile: Kiro resolves it from the key itself. */
  get profileArn(): undefined {
    return undefined;
  }

  get currentToken(): AccessToken {
    return this.token;
  }

  async getToken(): Promise<AccessToken> {
    if (this.rejectedError) throw this.rejectedError;
    return this.token;
  }

  /** Kiro refused the key: there is no other to try, so the account needs a new one. */
  async refreshAfterRejection(_rejected: AccessToken): Promise<AccessToken> {
    if (!this.rejectedError) {
      this.rejectedError = new KiroError('needs_sign_in', `${API_KEY_REJECTED} (kiro-bridge accounts add --api-key, or "Add Kiro API Key…" in VS Code)`, {
        account: this.label,
      });
      this.stateValue = 'needs_sign_in';
      this.logger.error(`account ${this.label}: ${API_KEY_REJECTED}`);
      for (const listener of this.stateListeners) listener(this.stateValue);
    }
    throw this.rejectedError;
  }

  async refresh(): Promise<AccessToken> {
    return this.getToken();
  }

  /** Tokens of other clients do not apply to a key. */
  adopt(_tokens: AdoptedTokens): boolean {
    return false;
  }

  onDidRotateRefreshToken(): () => void {
    return () => undefined;
  }

  onDidChangeState(listener: (state: TokenState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  onDidRefresh(): () => void {
    return () => undefined;
  }
}
