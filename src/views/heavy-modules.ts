// Everything heavy the extension needs (express, the tokenizer, undici, the accounts machinery),
// behind one module. The packaged extension ships it as its own file, dist/heavy.js, loaded on
// first use, so activation only parses the small dist/extension.js (see loadHeavyModules).
export { createBridge } from '../bridge/server';
export { KiroAccountsService } from '../kiro/accounts-service';
export { loadCredentials } from '../kiro/credentials';
export { signIn } from '../kiro/signin/flow';
