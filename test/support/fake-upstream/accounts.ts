// Fake Kiro accounts: the tokens the fake issued, the tier's models, credit usage, suspension.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AccountKind, AccountOptions, FakeAccountView, HttpReply, IdcType, ModelInfo, ScenarioSource, UsageConfig } from './types';

const limits = (maxInputTokens: number, maxOutputTokens: number) => ({ maxInputTokens, maxOutputTokens });

/** The 2026 catalogue (docs/kiro-protocol.md#models), with plausible multipliers and limits. */
export const DEFAULT_MODELS: readonly ModelInfo[] = [
  { modelId: 'auto', modelName: 'Auto', rateMultiplier: 1, tokenLimits: limits(200_000, 64_000) },
  { modelId: 'claude-sonnet-4.5', modelName: 'Claude Sonnet 4.5', rateMultiplier: 1.3, tokenLimits: limits(200_000, 64_000) },
  { modelId: 'claude-sonnet-4.6', modelName: 'Claude Sonnet 4.6', rateMultiplier: 1.3, tokenLimits: limits(1_000_000, 64_000) },
  { modelId: 'claude-sonnet-4', modelName: 'Claude Sonnet 4', rateMultiplier: 1.3, tokenLimits: limits(200_000, 64_000) },
  { modelId: 'claude-3.7-sonnet', modelName: 'Claude 3.7 Sonnet', rateMultiplier: 1.3, tokenLimits: limits(200_000, 64_000) },
  { modelId: 'claude-haiku-4.5', modelName: 'Claude Haiku 4.5', rateMultiplier: 0.4, tokenLimits: limits(200_000, 64_000) },
  { modelId: 'claude-opus-4.5', modelName: 'Claude Opus 4.5', rateMultiplier: 2.2, tokenLimits: limits(200_000, 32_000) },
  { modelId: 'claude-opus-4.6', modelName: 'Claude Opus 4.6', rateMultiplier: 2.2, tokenLimits: limits(1_000_000, 32_000) },
];

/** Model ids of a free account (FREE usually only has Sonnet 4.5, plus auto and Haiku). */
export const FREE_TIER_MODELS: readonly string[] = ['auto', 'claude-sonnet-4.5', 'claude-haiku-4.5'];

/** The upper-case ids of 2025, as the captured IDE requests use them. */
export const LEGACY_MODEL_IDS: readonly string[] = [
  'CLAUDE_SONNET_4_5_20250929_V1_0',
  'CLAUDE_SONNET_4_20250514_V1_0',
  'CLAUDE_3_7_SONNET_20250219_V1_0',
  'CLAUDE_3_5_HAIKU_20241022_V1_0',
];

const token = (prefix: string, bytes: number) => `${prefix}${randomBytes(bytes).toString('base64url')}`;

function modelInfo(model: string | ModelInfo): ModelInfo {
  if (typeof model !== 'string') return model;
  return DEFAULT_MODELS.find((m) => m.modelId === model) ?? { modelId: model, modelName: model, rateMultiplier: 1, tokenLimits: limits(200_000, 64_000) };
}

/** 00:00 UTC on the first of next month, in Unix seconds (when Kiro resets credits). */
export function nextMonthlyReset(nowMs: number): number {
  const d = new Date(nowMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / 1000;
}

let accountCounter = 0;

/**
 * One account the fake knows. Tests get it from `upstream.addAccount()` and use it to read state
 * (tokens, refresh counts, credits used) and to change it (expire tokens, suspend, script replies).
 */
export class FakeAccount implements FakeAccountView {
  readonly id: string;
  readonly label: string;
  readonly kind: AccountKind;
  readonly idcType: IdcType | undefined;
  readonly clientId: string | undefined;
  readonly clientSecret: string | undefined;
  readonly profileArn: string | undefined;
  models: ModelInfo[];
  defaultModel: string;
  rotateRefreshToken: boolean;
  accessTokenTtlSeconds: number;
  refreshDelayMs: number;
  creditsPerCall: number | undefined;
  usage: UsageConfig;
  suspended: boolean;
  /** Credits charged by generate calls served so far (on top of `usage.used`). */
  usedCredits = 0;
  /** Successful refreshes (Social /refreshToken or IdC /token). */
  refreshes = 0;
  /** Generate calls that reached a scripted reply. */
  servedCalls = 0;

  private currentRefreshToken: string;
  private apiKeyValue: string | undefined;
  /** Every key this account had, revoked ones included (to name the account on refused calls). */
  private readonly apiKeysIssued = new Set<string>();
  private readonly accessTokens = new Map<string, number>();
  /** Signs this account's native reasoning: a signature verifies only here, and only for its text. */
  private readonly reasoningKey = randomBytes(32);
  /** One-shot replies for this account's generate calls, before the server-wide queue. */
  readonly scriptQueue: ScenarioSource[] = [];
  /** One-shot answers for this account's next refreshes. */
  readonly refreshFailures: HttpReply[] = [];
  /** One-shot answers for this account's next getUsageLimits calls. */
  readonly usageReplies: HttpReply[] = [];

  constructor(
    options: AccountOptions,
    private readonly now: () => number,
  ) {
    accountCounter += 1;
    this.kind = options.kind ?? 'social';
    this.id = `acct-${accountCounter}`;
    this.label = options.label ?? `${this.kind}-${accountCounter}`;
    this.currentRefreshToken = options.refreshToken ?? token('aor', 96);
    if (this.kind === 'idc') {
      this.clientId = options.clientId ?? token('', 16);
      this.clientSecret = options.clientSecret ?? token('', 48);
      this.idcType = options.idcType ?? 'builder-id';
    }
    if (this.kind === 'apikey') {
      this.apiKeyValue = options.apiKey ?? token('ksk_', 32);
      this.apiKeysIssued.add(this.apiKeyValue);
    }
    this.profileArn =
      options.profileArn === null
        ? undefined
        : (options.profileArn ??
          (this.kind === 'social'
            ? `arn:aws:codewhisperer:us-east-1:${String(100000000000 + accountCounter)}:profile/${token('', 9).toUpperCase()}`
            : undefined));
    this.models = (options.models ?? DEFAULT_MODELS).map(modelInfo);
    this.defaultModel = options.defaultModel ?? 'auto';
    this.rotateRefreshToken = options.rotateRefreshToken ?? false;
    this.accessTokenTtlSeconds = options.accessTokenTtlSeconds ?? 3600;
    this.refreshDelayMs = options.refreshDelayMs ?? 0;
    this.creditsPerCall = options.creditsPerCall;
    this.usage = { ...(options.usage ?? {}) };
    this.suspended = options.suspended ?? false;
  }

  /**
   * The signature Kiro gives reasoning this account produced. Real signatures are opaque and, as
   * peers observed, bound to the account: the fake's are an HMAC of the text under a key only this
   * account holds, so a changed text or another account's signature fails verification.
   */
  signReasoning(text: string): string {
    return createHmac('sha256', this.reasoningKey).update(text, 'utf8').digest('base64');
  }

  /** Whether `signature` is the one this account gave `text`. */
  verifiesReasoning(text: string, signature: string): boolean {
    const expected = Buffer.from(this.signReasoning(text), 'utf8');
    const given = Buffer.from(signature, 'utf8');
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /** An `apikey` account's key while it works (undefined once revoked, and for other kinds). */
  get apiKey(): string | undefined {
    return this.apiKeyValue;
  }

  /** Makes the API key stop working (deleted in Kiro's settings). */
  revokeApiKey(): void {
    this.apiKeyValue = undefined;
  }

  /** Whether `bearer` is this account's working API key. */
  hasApiKey(bearer: string): boolean {
    return this.apiKeyValue !== undefined && bearer === this.apiKeyValue;
  }

  /** Whether `bearer` is a key this account has had (working or revoked). */
  ownsApiKey(bearer: string): boolean {
    return this.apiKeysIssued.has(bearer);
  }

  /** The refresh token that currently works (it changes on rotation). */
  get refreshToken(): string {
    return this.currentRefreshToken;
  }

  /** The access tokens issued so far, newest last. */
  get accessTokensIssued(): string[] {
    return [...this.accessTokens.keys()];
  }

  /** The newest access token, if any was issued. */
  get accessToken(): string | undefined {
    return this.accessTokensIssued.at(-1);
  }

  /** Issues a fresh access token (what a refresh does), valid for `accessTokenTtlSeconds`. */
  issueAccessToken(): string {
    const issued = token('aoa', 96);
    this.accessTokens.set(issued, this.now() + this.accessTokenTtlSeconds * 1000);
    return issued;
  }

  /** Whether `bearer` is an unexpired access token of this account. */
  accepts(bearer: string): boolean {
    const expiresAt = this.accessTokens.get(bearer);
    return expiresAt !== undefined && this.now() < expiresAt;
  }

  ownsAccessToken(bearer: string): boolean {
    return this.accessTokens.has(bearer);
  }

  /** Makes every access token issued so far expired (as if an hour passed). */
  expireAccessTokens(): void {
    for (const key of this.accessTokens.keys()) this.accessTokens.set(key, 0);
  }

  /** Called on a successful refresh: new access token, maybe a rotated refresh token. */
  refresh(): { accessToken: string; refreshToken?: string } {
    this.refreshes += 1;
    const accessToken = this.issueAccessToken();
    if (!this.rotateRefreshToken) return { accessToken };
    this.currentRefreshToken = token('aor', 96);
    return { accessToken, refreshToken: this.currentRefreshToken };
  }

  /** Makes the current refresh token stop working (revoked; the user must sign in again). */
  revokeRefreshToken(): void {
    this.currentRefreshToken = `revoked-${token('', 12)}`;
  }

  /** The next refresh of this account answers `reply` instead (one shot each). */
  failNextRefresh(reply: HttpReply): void {
    this.refreshFailures.push(reply);
  }

  private refreshGate: Promise<void> | undefined;

  /**
   * Holds every refresh of this account (Social or IdC) until the returned function is called,
   * so concurrent refreshes overlap deterministically (single-flight tests). Idempotent release.
   */
  holdRefreshes(): () => void {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    this.refreshGate = gate;
    return () => {
      if (this.refreshGate === gate) this.refreshGate = undefined;
      release();
    };
  }

  /** Resolves when a held refresh may proceed (at once if nothing is held). */
  refreshMayProceed(): Promise<void> {
    return this.refreshGate ?? Promise.resolve();
  }

  /** The next getUsageLimits call of this account answers `reply` instead (one shot each). */
  scriptNextUsage(reply: HttpReply): void {
    this.usageReplies.push(reply);
  }

  /** One-shot replies for this account's next generate calls (consulted before the server's queue). */
  scriptNext(...scenarios: ScenarioSource[]): void {
    this.scriptQueue.push(...scenarios);
  }

  suspend(): void {
    this.suspended = true;
  }

  unsuspend(): void {
    this.suspended = false;
  }

  get modelIds(): string[] {
    return this.models.map((m) => m.modelId);
  }

  /** Credits still available: monthly limit + active free trial + active bonuses − used. */
  get remainingCredits(): number {
    const u = this.usage;
    let total = (u.limit ?? 50) - (u.used ?? 0) - this.usedCredits;
    if (u.freeTrial && (u.freeTrial.status ?? 'ACTIVE') === 'ACTIVE') total += u.freeTrial.limit - (u.freeTrial.used ?? 0);
    for (const b of u.bonuses ?? []) if ((b.status ?? 'ACTIVE') === 'ACTIVE') total += b.limit - (b.used ?? 0);
    return Math.max(0, total);
  }

  charge(credits: number): void {
    this.usedCredits += credits;
  }

  /** This account as one entry of `KIRO_AUTH_TOKEN` (docs/kiro-protocol.md#auth-kinds). */
  credential(): Record<string, string> {
    if (this.kind === 'apikey') return { auth: 'ApiKey', apiKey: this.apiKeyValue ?? '' };
    return this.kind === 'idc'
      ? { auth: 'IdC', refreshToken: this.refreshToken, clientId: this.clientId!, clientSecret: this.clientSecret! }
      : { auth: 'Social', refreshToken: this.refreshToken };
  }

  /**
   * The Kiro IDE's `~/.aws/sso/cache/kiro-auth-token.json` for this account, with a fresh
   * access token, for import tests.
   */
  kiroIdeTokenFile(): Record<string, string> {
    if (this.kind === 'apikey') throw new Error('the Kiro IDE does not sign in with an API key');
    const accessToken = this.issueAccessToken();
    const file: Record<string, string> = {
      accessToken,
      refreshToken: this.refreshToken,
      expiresAt: new Date(this.now() + this.accessTokenTtlSeconds * 1000).toISOString(),
      authMethod: this.kind === 'idc' ? 'IdC' : 'social',
      provider: this.kind === 'idc' ? (this.idcType === 'enterprise' ? 'Enterprise' : 'BuilderId') : 'Github',
      region: 'us-east-1',
    };
    if (this.profileArn) file.profileArn = this.profileArn;
    return file;
  }
}
