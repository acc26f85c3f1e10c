// Which profile ARN an account sends, and where (docs/kiro-protocol.md#profiles). Kiro's `q.` hosts
// demand a profile on the generate call (400 "profileArn is required for this request."), and a
// wrong one is refused (403 "User is not authorized to make this call."). By kind of login:
//
// - Social: the ARN Kiro's refresh names; the Kiro CLI's fixed social profile if none is known.
// - AWS Builder ID: no profile of its own; the Kiro CLI injects a fixed placeholder ARN "so their
//   requests are routed correctly", and free Builder ID accounts without it are refused.
// - IAM Identity Center (enterprise): the real profile, found with ListAvailableProfiles (one
//   taken silently; of several, the one in the login's region, else the first), kept with the
//   account, and looked up again when Kiro refuses it. An IdC login whose kind is unknown (a
//   KIRO_AUTH_TOKEN entry, a pasted token) is asked too: Kiro answers Builder ID logins "AWS
//   Builder ID is not supported for this operation.", which settles it.
// - Kiro API key: none. The key belongs to one profile on Kiro's side; sending another is refused.
//
// The fixed placeholders go only where a profile is demanded (generate, MCP). Usage checks and
// ListAvailableModels carry a profile only when the account really has one: Builder ID tokens
// sent with the placeholder there were reported refused as invalid bearer tokens, while those
// calls work without any profile.
import type { Logger } from '../../common/logger';
import { nullLogger } from '../../common/logger';
import { BUILDER_ID_PROFILE_ARN, BUILDER_ID_START_URL, DEFAULT_SOCIAL_PROFILE_ARN } from '../signin/constants';
import type { ProfileDiscovery } from '../signin/profiles';
import { regionFromProfileArn } from '../http/endpoints';
import type { AccessToken, AccountTokens } from './auth';
import type { AccountCredentials } from './credentials';

export type ProfileRule =
  /** Social: the refresh names it. */
  | 'own'
  /** Builder ID: the fixed placeholder where a profile is demanded. */
  | 'builder-id'
  /** IAM Identity Center: found with ListAvailableProfiles. */
  | 'discover'
  /** A Kiro API key: never a profile. */
  | 'none';

/** What a lookup found out, for the accounts service to keep with the saved account. */
export interface ProfileChange {
  profileArn?: string;
  /** `BuilderId` once Kiro said the login is a Builder ID. */
  provider?: string;
}

/** Asks ListAvailableProfiles with `token` (all hosts, all pages). */
export type ProfileLookup = (token: AccessToken) => Promise<ProfileDiscovery>;

/** A failed lookup is tried again no sooner than this, unless Kiro refuses the profile in use. */
const RETRY_LOOKUP_AFTER_MS = 5 * 60_000;
const BUILDER_ID_REFUSAL = /builder id is not supported/i;

export function profileRuleOf(credentials: AccountCredentials): ProfileRule {
  if (credentials.auth === 'ApiKey') return 'none';
  if (credentials.auth === 'Social') return 'own';
  if (credentials.provider?.toLowerCase() === 'builderid' || credentials.startUrl?.replace(/\/+$/, '') === BUILDER_ID_START_URL) return 'builder-id';
  return 'discover';
}

export class AccountProfile {
  private ruleValue: ProfileRule;
  private discovered: string | undefined;
  /** The profile Kiro last refused (a saved one is not used again until a lookup lists it). */
  private refused: string | undefined;
  private lookupInFlight: Promise<void> | undefined;
  private lastLookupAt: number | undefined;
  private readonly listeners = new Set<(change: ProfileChange) => void>();
  private readonly logger: Logger;
  private readonly now: () => number;

  constructor(
    private readonly credentials: AccountCredentials,
    private readonly tokens: AccountTokens,
    private readonly lookup: ProfileLookup,
    private readonly label: string,
    options: { logger?: Logger; now?: () => number } = {},
  ) {
    this.ruleValue = profileRuleOf(credentials);
    this.logger = options.logger ?? nullLogger;
    this.now = options.now ?? Date.now;
  }

  get rule(): ProfileRule {
    return this.ruleValue;
  }

  /**
   * The account's real profile, when known (never a placeholder): what usage checks and
   * ListAvailableModels carry, and what the saved account keeps.
   */
  get arn(): string | undefined {
    if (this.ruleValue === 'none') return undefined;
    if (this.discovered) return this.discovered;
    const own = this.tokens.profileArn;
    return own !== undefined && own === this.refused ? undefined : own;
  }

  /** For the calls Kiro demands a profile on: the generate call and MCP. */
  get forStreaming(): string | undefined {
    switch (this.ruleValue) {
      case 'own':
        return this.arn ?? DEFAULT_SOCIAL_PROFILE_ARN;
      case 'builder-id':
        return this.arn ?? BUILDER_ID_PROFILE_ARN;
      case 'discover':
        return this.arn;
      case 'none':
        return undefined;
    }
  }

  /** Whether asking Kiro again could change the profile (a refused one can be replaced). */
  get canLookUpAgain(): boolean {
    return this.ruleValue === 'discover';
  }

  /** Called with what a lookup found (a profile, or that the login is a Builder ID). */
  onDidChange(listener: (change: ProfileChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Looks the profile up if the account needs one and has none (not again within minutes of a failure). */
  async ensure(token: AccessToken): Promise<void> {
    if (this.ruleValue !== 'discover' || this.arn) return;
    if (this.lastLookupAt !== undefined && this.now() - this.lastLookupAt < RETRY_LOOKUP_AFTER_MS) return;
    await this.lookUp(token);
  }

  /** Kiro refused the profile sent: forget it and ask again. */
  async lookUpAgain(token: AccessToken): Promise<void> {
    if (this.ruleValue !== 'discover') return;
    this.refused = this.arn ?? this.refused;
    this.discovered = undefined;
    await this.lookUp(token, this.refused);
  }

  private lookUp(token: AccessToken, refused?: string): Promise<void> {
    this.lookupInFlight ??= this.lookUpOnce(token, refused).finally(() => {
      this.lookupInFlight = undefined;
    });
    return this.lookupInFlight;
  }

  private async lookUpOnce(token: AccessToken, refused: string | undefined): Promise<void> {
    this.lastLookupAt = this.now();
    let discovery: ProfileDiscovery;
    try {
      discovery = await this.lookup(token);
    } catch (error) {
      this.logger.warn(`account ${this.label}: could not look up its Kiro profile (${(error as Error).message})`);
      return;
    }
    if (discovery.profiles.length === 0) {
      if (discovery.failures.some((f) => BUILDER_ID_REFUSAL.test(f))) {
        this.ruleValue = 'builder-id';
        this.logger.info(`account ${this.label} is an AWS Builder ID login; it uses Kiro's fixed Builder ID profile`);
        this.emit({ provider: 'BuilderId' });
        return;
      }
      const detail = discovery.failures.length ? ` (${discovery.failures.join('; ')})` : '';
      this.logger.warn(`account ${this.label}: Kiro lists no profile for this login${detail}; requests may be refused until an administrator assigns one`);
      return;
    }
    // Of several, the one in the login's own region (as other sign-in clients choose), else the
    // first; a refused one last.
    const candidates = [...discovery.profiles].sort((a, b) => Number(a.arn === refused) - Number(b.arn === refused));
    const region = this.credentials.region;
    const chosen = candidates.find((p) => region && regionFromProfileArn(p.arn) === region) ?? candidates[0]!;
    if (discovery.profiles.length > 1) {
      this.logger.info(
        `account ${this.label}: Kiro lists ${discovery.profiles.length} profiles; using "${chosen.profileName}" (${chosen.arn}). Sign in again to choose another.`,
      );
    }
    this.discovered = chosen.arn;
    this.emit({ profileArn: chosen.arn });
  }

  private emit(change: ProfileChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
