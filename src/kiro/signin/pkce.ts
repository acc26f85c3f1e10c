// PKCE (RFC 7636, S256) and the `state` value, as the Kiro CLI and the AWS Toolkit compute them
// (docs/kiro-protocol.md#sso-oidc): the verifier is base64url (no padding) of 32 random bytes, the challenge is
// base64url of SHA-256 over the verifier's ASCII text.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface PkcePair {
  verifier: string;
  challenge: string;
  method: 'S256';
}

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

export function createPkcePair(): PkcePair {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: pkceChallenge(verifier), method: 'S256' };
}

/** An unguessable `state` (128 bits, url-safe). */
export function createState(): string {
  return randomBytes(16).toString('base64url');
}

/** Compares two `state` values without leaking where they differ. */
export function sameState(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
