// SSO-OIDC client registrations live about 90 days and create state on AWS's side, so both AWS
// clients cache them and reuse them until they expire instead of registering at every login (the
// Kiro CLI's builder_id.rs, the AWS Toolkit's getValidatedClientRegistration). A registration holds
// a client secret: it is kept in the SecretStore (VS Code SecretStorage / the CLI's 0600 file),
// never in settings.
import { createHash } from 'node:crypto';
import type { SecretStore } from '../../common/secret-store';

export type OidcFlow = 'device' | 'pkce';

export interface ClientRegistration {
  clientId: string;
  clientSecret: string;
  /** Unix seconds (as SSO-OIDC sends it). */
  clientSecretExpiresAt: number;
  /** The OIDC region the client was registered in. */
  region: string;
  startUrl: string;
  flow: OidcFlow;
  scopes: string[];
}

export interface RegistrationKey {
  region: string;
  startUrl: string;
  flow: OidcFlow;
  scopes: readonly string[];
}

export interface RegistrationCache {
  get(key: RegistrationKey): Promise<ClientRegistration | undefined>;
  set(key: RegistrationKey, registration: ClientRegistration): Promise<void>;
  delete(key: RegistrationKey): Promise<void>;
}

/** OIDC region + start URL + flow + scope set: one registration each. */
export function registrationKeyText(key: RegistrationKey): string {
  return [key.region, key.startUrl, key.flow, [...key.scopes].sort().join(' ')].join('\n');
}

export class MemoryRegistrationCache implements RegistrationCache {
  private readonly entries = new Map<string, ClientRegistration>();

  async get(key: RegistrationKey): Promise<ClientRegistration | undefined> {
    return this.entries.get(registrationKeyText(key));
  }

  async set(key: RegistrationKey, registration: ClientRegistration): Promise<void> {
    this.entries.set(registrationKeyText(key), registration);
  }

  async delete(key: RegistrationKey): Promise<void> {
    this.entries.delete(registrationKeyText(key));
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Secret-store key prefix; the rest is a digest of the cache key (start URLs are not secret, but long). */
export const REGISTRATION_SECRET_PREFIX = 'kiroBridge.oidcClient.';

function isRegistration(value: unknown): value is ClientRegistration {
  const r = value as Partial<ClientRegistration> | null;
  return (
    !!r &&
    typeof r.clientId === 'string' &&
    typeof r.clientSecret === 'string' &&
    typeof r.clientSecretExpiresAt === 'number' &&
    typeof r.region === 'string' &&
    typeof r.startUrl === 'string' &&
    (r.flow === 'device' || r.flow === 'pkce') &&
    Array.isArray(r.scopes)
  );
}

export class SecretRegistrationCache implements RegistrationCache {
  constructor(private readonly store: SecretStore) {}

  static secretKey(key: RegistrationKey): string {
    return REGISTRATION_SECRET_PREFIX + createHash('sha256').update(registrationKeyText(key)).digest('hex').slice(0, 32);
  }

  async get(key: RegistrationKey): Promise<ClientRegistration | undefined> {
    const text = await this.store.get(SecretRegistrationCache.secretKey(key));
    if (!text) return undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      return isRegistration(parsed) ? parsed : undefined;
    } catch {
      // A damaged entry is as good as none: a new registration replaces it.
      return undefined;
    }
  }

  async set(key: RegistrationKey, registration: ClientRegistration): Promise<void> {
    await this.store.set(SecretRegistrationCache.secretKey(key), JSON.stringify(registration));
  }

  async delete(key: RegistrationKey): Promise<void> {
    await this.store.delete(SecretRegistrationCache.secretKey(key));
  }
}
