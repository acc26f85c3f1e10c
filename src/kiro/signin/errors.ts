// Every way a sign-in can end other than with an account, as one error type. Messages read
// "Sign-in failed because …" so that a change on the provider's side shows up as a sentence the
// user can act on (or paste into an issue), never as a stack trace. No message quotes a token.

export type SignInFailure =
  /** The user cancelled (progress notification, Ctrl+C, closed picker). */
  | 'cancelled'
  /** Nobody came back to the loopback callback, or the device code was not approved in time. */
  | 'timeout'
  /** The device code or the authorization expired. */
  | 'expired'
  /** The user (or their administrator) refused access. */
  | 'denied'
  /** The browser came back with a `state` this sign-in did not send. */
  | 'state_mismatch'
  /** The provider answered with an error we understood (its text is in the message). */
  | 'provider_error'
  /** The provider answered with something we did not expect (a protocol change upstream?). */
  | 'protocol'
  /** The provider could not be reached. */
  | 'network'
  /** Every allowed loopback port is taken by another program. */
  | 'ports_busy'
  /** The account has no Kiro profile we can use. */
  | 'no_profile'
  /** Kiro's auth service does not take new sign-ups right now. */
  | 'signups_paused'
  /** Tokens came back, but the first refresh or usage check with them failed. */
  | 'verification_failed';

export class SignInError extends Error {
  override readonly name = 'SignInError';

  /** Recognised across the extension's two bundles (see KiroError). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof Error && value.name === 'SignInError' && typeof (value as { failure?: unknown }).failure === 'string';
  }

  /** The provider's own error code (`invalid_client`, `access_denied`…), when it sent one. */
  readonly providerCode?: string;

  constructor(
    readonly failure: SignInFailure,
    message: string,
    options: { cause?: unknown; providerCode?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (options.providerCode) this.providerCode = options.providerCode;
  }

  get cancelled(): boolean {
    return this.failure === 'cancelled';
  }
}

/** "Sign-in failed because {reason}" — the one phrasing for every failure but a cancel. */
export function signInFailed(failure: Exclude<SignInFailure, 'cancelled'>, reason: string, cause?: unknown, providerCode?: string): SignInError {
  return new SignInError(failure, `Sign-in failed because ${reason}`, { cause, providerCode });
}

/** A device flow's code ran out before the user approved it (both device flows). */
export function deviceCodeExpired(): SignInError {
  return signInFailed('expired', 'the device code expired before it was approved; start the sign-in again');
}

export function signInCancelled(): SignInError {
  return new SignInError('cancelled', 'Sign-in cancelled; nothing was stored.');
}

/** Throws the cancellation error if `signal` fired. */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signInCancelled();
}
