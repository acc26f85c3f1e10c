/**
 * # Fake Kiro upstream
 *
 * A real HTTP server (`node:http`, 127.0.0.1, free port) that behaves like Kiro's upstream as
 * `docs/kiro-protocol.md` describes it, for every test that needs Kiro. Point the bridge
 * at `upstream.baseUrl`: every Kiro host maps onto it. (Its sections in parentheses.)
 *
 * | path (relative to baseUrl)                | what                                                            |
 * |-------------------------------------------|-----------------------------------------------------------------|
 * | `POST /generateAssistantResponse`         | scripted EventStream replies, validated (#conversation-rules)   |
 * | `POST /refreshToken`                      | Social refresh (#auth-kinds), optional rotation                 |
 * | `POST /token`                             | SSO-OIDC refresh_token grant (IdC, #auth-kinds)                 |
 * | `GET  /getUsageLimits?…`                  | 2025-10 CREDIT schema or the legacy VIBE/SPEC (#usage-limits)   |
 * | `POST /` + `x-amz-target`                 | `AmazonCodeWhispererService.ListAvailableModels` (#other-calls) |
 * | `POST /mcp`                               | MCP `tools/call` web_search (#web-search)                       |
 * | `POST /client/register`                   | SSO-OIDC RegisterClient (#sso-oidc)                             |
 * | `POST /device_authorization`              | SSO-OIDC StartDeviceAuthorization (#sso-oidc)                   |
 * | `GET  /authorize`                         | SSO-OIDC browser page: 302 to the loopback (#sso-oidc)          |
 * | `POST /token` (auth code, device)         | SSO-OIDC CreateToken sign-in grants                             |
 * | `GET  /device?user_code=…&approve=1`      | the verification page a test "approves" on                      |
 * | `GET  /login`, `POST /oauth/token`        | Kiro social login + code exchange (#kiro-social-login)          |
 * | `POST /oauth/device/{authorization,poll}` | Kiro social device flow (#kiro-social-login)                    |
 * | `POST /logout`                            | Kiro social refresh-token revocation                            |
 * | `POST /` ListAvailableProfiles            | profiles of IdC accounts (#profiles)                            |
 *
 * ```ts
 * const upstream = await startFakeUpstream();          // one Social account, validation on
 * const account = upstream.account;                    // or upstream.addAccount({ kind: 'idc', … })
 * process.env.KIRO_AUTH_TOKEN = upstream.kiroAuthToken();
 *
 * upstream.scriptNext(toolReply({ name: 'readFile', input: { path: 'a.ts' } }), textReply('done'));
 * upstream.scriptNext(upstreamErrors.throttled(3));    // 429 with retry-after: 3
 * upstream.script(textReply('always this'));           // every later call (after one-shots)
 * account.scriptNext(upstreamErrors.monthlyLimit());   // per-account one-shots come first
 *
 * // … drive the bridge …
 * const sent = upstream.lastGenerate();                // method, path, headers, parsed body, account
 * expect(sent.headers['x-amzn-codewhisperer-optout']).toBe('true');
 * expect(upstream.refreshCount(account.refreshToken)).toBe(1);
 * await upstream.waitFor((r) => r.endpoint === 'generate' && r.outcome === 'aborted');
 * await upstream.close();                              // ends in-flight streams, never hangs
 * ```
 *
 * **Scenarios** are plain data: `{ steps, frameDelayMs?, chunkBytes?, echoModelId?, credits? }`
 * with steps `{text}`, `{thinking}` (sent as `<thinking>…</thinking>` text, as Kiro does),
 * `{reasoning, signature?}` (native reasoningContentEvent frames, signed for the serving account
 * by default), `{redactedReasoning}`, `{tokenUsage}` (metadataEvent with Kiro's token counts),
 * `{tool:{name,id?,input,fragments?}}`, `{toolStart|toolInput|toolStop}` (interleaving),
 * `{metering}`, `{contextUsage}`, `{event}`, `{exception:{type,message}}`, `{error:{code,message}}`,
 * `{frame}` (raw bytes), `{delayMs}`, `{cut:true}` (socket destroyed), `{stall:true}` (held open
 * until the client leaves), or `{http:{status,body,headers}}` (after nothing but delays).
 * `holdHeaders: true` keeps the 200 headers back until the first frame, so a delay, cut or stall
 * can come before the first byte. Builders: `textReply`, `toolReply`, `interleavedToolsReply`,
 * `thinkingReply`, `reasoningReply`, `promptCacheReply` (a model of Kiro's prompt cache keyed by
 * account and conversationId, reporting tokenUsage), `fencedJsonReply` / `proseJsonReply` (JSON as
 * models wrap it when only the prompt asks for it), `exceptionReply`, `errorFrameReply`, `cutReply`, `slowReply`, `stallReply`,
 * `httpReply`, `delayedReply`, `resetBeforeHeadersReply`, `hangBeforeHeadersReply`, and
 * `upstreamErrors.*` for every error body of docs/kiro-protocol.md#errors.
 * A scenario can also be a function of the request (`GenerateContext`). With nothing scripted,
 * each call answers `textReply('Hello from the fake Kiro upstream.')`.
 *
 * **Before a scenario runs**, a generate call must carry an unexpired access token the fake
 * issued (else 403 "The bearer token included in the request is invalid."), its account must not
 * be suspended (403 TEMPORARILY_SUSPENDED) or out of credits (402 MONTHLY_REQUEST_COUNT), and the
 * body must pass the upstream's rules — replayed native reasoning included: its signature must be
 * one the serving account gave that exact text, else 400 THINKING_SIGNATURE_INVALID — (400 with
 * the upstream's body; the rule id is in the
 * `x-fake-kiro-rule` header and `record.rejectedBy`). `startFakeUpstream({ validate: false })` or
 * `upstream.validation = { skip: [...] }` relaxes the rules; `emptyAssistantContent:
 * 'allow-with-tool-uses'` reproduces the Aug-2025 upstream the captured IDE requests were sent to.
 *
 * **Profiles** (`fake-upstream/profiles.ts`): generate and MCP demand the profile each login must
 * send — a Social account's own, Kiro's fixed Builder ID placeholder for `{ kind: 'idc' }`
 * (`idcType: 'builder-id'`, the default), one of `upstream.profileArnsOf(account)` for
 * `{ kind: 'idc', idcType: 'enterprise' }`, none for an API key — missing: 400 "profileArn is
 * required for this request." (rule `profile_arn_missing`), wrong: 403 "User is not authorized to
 * make this call." (`profile_arn_refused`). Usage and model calls need an Identity Center login's
 * profile and refuse a Builder ID token sent with the placeholder. ListAvailableProfiles answers
 * Builder ID logins 403 "AWS Builder ID is not supported for this operation.".
 * `upstream.streamingProfileOf(account)` is what a correct client sends.
 *
 * **API keys**: `addAccount({ kind: 'apikey' })` has a `ksk_…` `apiKey`; it is accepted only as
 * `Authorization: Bearer <key>` with `tokentype: API_KEY` (without it, or with an unknown or
 * revoked key — `revokeApiKey()` — the answer is the invalid-bearer 403); it never refreshes.
 *
 * **Records**: `upstream.requests` holds every request (endpoint, method, path, query, headers,
 * raw and parsed body, account, status, rule, scenario, frames sent, outcome `pending |
 * completed | aborted | cut | closed`). `aborted` means the client went away before the reply
 * was complete — the observable fact behind "client disconnect aborted the upstream call".
 *
 * Accounts (`FakeAccount`): `refreshToken` (current; changes on rotation), `accessToken` (newest
 * issued), `issueAccessToken()` (skip the refresh), `expireAccessTokens()`, `revokeRefreshToken()`,
 * `failNextRefresh(reply)`, `holdRefreshes()` (returns a release: concurrent refreshes overlap
 * deterministically), `refreshDelayMs`, `suspend()`, `scriptNext(...)`, `scriptNextUsage(reply)`,
 * `refreshes`, `servedCalls`, `usedCredits`, `remainingCredits`, `credential()` (one
 * `KIRO_AUTH_TOKEN` entry), `kiroIdeTokenFile()` (the IDE's kiro-auth-token.json).
 * `startFakeUpstream({ now })` injects a clock; `{ compress: true }` gzip/br-encodes JSON answers
 * for clients that accept it.
 *
 * Credits: a served generate call charges `scenario.credits ?? account.creditsPerCall ?? (sum of
 * its metering steps)`; once `account.remainingCredits` hits 0 the next call gets 402, so
 * `addAccount({ usage: { limit: 2 }, creditsPerCall: 1 })` allows exactly two calls.
 *
 * More endpoints: `upstream.route(method, path, endpoint, (call, kit) => …)` and
 * `upstream.grants.set(grantType, …)` (for `/token`); `kit` gives reply/refuse/authorise without
 * private access.
 *
 * **Sign-in** (`upstream.signIn`, a FakeSignIn): client registrations, device authorizations and
 * codes, with knobs — `devicePollScript` (one-shot poll answers such as `authorization_pending`,
 * `slow_down`), `approveDevice(userCode)` / `denyDevice`, `browserAnswer` (`approve` | `deny`),
 * `socialCallbackPorts` (Kiro's allowlist), `signupsPaused`, `profiles` (ListAvailableProfiles),
 * `expireRegistration(clientId)`. Each successful sign-in creates a FakeAccount
 * (`signIn.signedIn`), whose tokens then work everywhere else. `actAsBrowser(url, { rewrite })`
 * plays the browser: it opens the authorize/login URL and follows the redirect to the client's
 * loopback callback. `upstream.webSearchReplies` scripts one-shot `/mcp` answers.
 *
 * Standalone: `npx tsx test/support/fake-upstream-main.ts` prints the base URL and a
 * `KIRO_AUTH_TOKEN` and serves until SIGTERM (for end-to-end tests in a real VS Code).
 */
export { startFakeUpstream, FakeUpstream } from './fake-upstream/server';
export type { FakeUpstreamOptions, GrantHandler, RouteCall, RouteHandler, RouteKit, WebSearchResult } from './fake-upstream/server';
export { FakeAccount, DEFAULT_MODELS, FREE_TIER_MODELS, LEGACY_MODEL_IDS, nextMonthlyReset } from './fake-upstream/accounts';
export {
  textReply,
  toolReply,
  cutToolReply,
  interleavedToolsReply,
  thinkingReply,
  reasoningReply,
  promptCacheReply,
  promptTokensOf,
  fencedJsonReply,
  proseJsonReply,
  exceptionReply,
  errorFrameReply,
  cutReply,
  slowReply,
  stallReply,
  httpReply,
  resetBeforeHeadersReply,
  hangBeforeHeadersReply,
  delayedReply,
  kiroToolUseId,
  splitText,
  expandScenario,
} from './fake-upstream/scenario';
export type { CutToolSpec, ExpandContext, ReplyExtras } from './fake-upstream/scenario';
export { upstreamErrors, BEARER_INVALID_MESSAGE, SUSPENDED_MESSAGE } from './fake-upstream/bodies';
export {
  validateGenerateBody,
  checkBodySize,
  inputChars,
  DEFAULT_MAX_INPUT_CHARS,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_TOOL_NAME_MAX_LENGTH,
} from './fake-upstream/validate';
export { usageLimitsBody } from './fake-upstream/usage';
export { FakeSignIn, KIRO_CALLBACK_PORT_ALLOWLIST, SIGNUPS_PAUSED_MESSAGE, DEVICE_GRANT_TYPE } from './fake-upstream/signin';
export type { FakeRegistration, FakeDeviceAuthorization } from './fake-upstream/signin';
export { actAsBrowser, finalPage } from './fake-upstream/browser';
export type { BrowserHop, BrowserOptions } from './fake-upstream/browser';
export type * from './fake-upstream/types';
