// Everything heavy the extension needs (express, the tokenizer, undici, the accounts machinery),
// behind one module. The packaged extension ships it as its own file, dist/heavy.js, loaded on
// first use, so activation only parses the small dist/extension.js (see loadHeavyModules).
export { createBridge } from '../bridge/http/server';
export { KiroAccountsService } from '../kiro/accounts/accounts-service';
import type { SignedInAccount, SignInOptions } from '../kiro/signin/flow';

/** Sign-in (the device and browser flows) is imported on first use: most sessions never sign in. */
export async function signIn(options: SignInOptions): Promise<SignedInAccount> {
  return (await import('../kiro/signin/flow')).signIn(options);
}
