// The extension ships two bundles, each with its own copy of the error classes; errors thrown by
// one must still be recognised by the other. A second copy of a module is what a fresh module
// registry gives us here.
import { describe, expect, it, vi } from 'vitest';
import type * as errors from '../../src/kiro/errors';
import { KiroError } from '../../src/kiro/errors';
import type * as signInErrors from '../../src/kiro/signin/errors';
import { SignInError } from '../../src/kiro/signin/errors';

describe('error classes across bundle copies', () => {
  it('recognises a KiroError and a SignInError made by another copy of the module', async () => {
    vi.resetModules();
    // A query string makes the module loader evaluate the file again: a second copy of the class.
    const errorsCopy: string = '../../src/kiro/errors?copy';
    const signInCopy: string = '../../src/kiro/signin/errors?copy';
    const other = (await import(errorsCopy)) as typeof errors;
    const otherSignIn = (await import(signInCopy)) as typeof signInErrors;
    expect(other.KiroError).not.toBe(KiroError);
    const foreign = new other.KiroError('throttled', 'slow down');
    expect(foreign instanceof KiroError).toBe(true);
    expect(new otherSignIn.SignInError('cancelled', 'x') instanceof SignInError).toBe(true);
  });

  it('does not mistake other errors for them', () => {
    expect(new Error('plain') instanceof KiroError).toBe(false);
    expect(new SignInError('cancelled', 'x') instanceof KiroError).toBe(false);
    expect(new KiroError('internal', 'x') instanceof SignInError).toBe(false);
    const lookalike = Object.assign(new Error('x'), { name: 'KiroError' });
    expect(lookalike instanceof KiroError).toBe(false);
  });
});
