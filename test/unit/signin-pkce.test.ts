// PKCE and state (docs/kiro-protocol.md#sso-oidc).
import { describe, expect, it } from 'vitest';
import { createPkcePair, createState, pkceChallenge, sameState } from '../../src/kiro/signin/pkce';

describe('PKCE', () => {
  it('matches the RFC 7636 appendix B vector', () => {
    expect(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('makes a 43-character base64url verifier from 32 random bytes, and its S256 challenge', () => {
    const pair = createPkcePair();
    expect(pair.method).toBe('S256');
    expect(pair.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(pair.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(pair.challenge).toBe(pkceChallenge(pair.verifier));
    expect(createPkcePair().verifier).not.toBe(pair.verifier);
  });

  it('makes unguessable url-safe states and compares them exactly', () => {
    const a = createState();
    const b = createState();
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a).not.toBe(b);
    expect(sameState(a, a)).toBe(true);
    expect(sameState(a, b)).toBe(false);
    expect(sameState(a, a.slice(0, -1))).toBe(false);
    expect(sameState('', a)).toBe(false);
  });
});
