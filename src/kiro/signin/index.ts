// Sign in to Kiro without the Kiro IDE (docs/kiro-protocol.md#sign-in). VS Code and the CLI call
// `signIn` with their own UI; everything below it runs headless.
export { signIn, preferDeviceFlow, methodLabel } from './flow';
export type { SignInMethod, SignInOptions, SignInTransport, SignInUi, SignedInAccount, SignInProvider, UserCodePrompt } from './flow';
export { SignInError, type SignInFailure } from './errors';
export type { KiroProfile } from './profiles';
export { MemoryRegistrationCache, SecretRegistrationCache, type RegistrationCache, type ClientRegistration } from './registration-cache';
export type { SocialProvider } from './kiro-social';
export type { UsageSummary } from './verify';
export { BUILDER_ID_START_URL, BUILDER_ID_REGION, SOCIAL_CALLBACK_PORTS } from './constants';
