// POST /generateAssistantResponse: bearer, account state and body checks, then the scripted
// reply streamed as EventStream frames (docs/kiro-protocol.md#request-body, #events).
import { randomUUID } from 'node:crypto';
import { httpOf, upstreamErrors } from './bodies';
import { ChunkWriter, sleep, untilAborted } from './delivery';
import { expandScenario, httpStepOf, meteredCredits, type ExpandContext } from './scenario';
import type { RouteCall, RouteKit } from './server';
import type { GenerateContext, KiroGenerateBody, Scenario } from './types';
import { checkStreamingProfile, refusedProfile } from './profiles';
import { checkBodySize, validateGenerateBody, validationFailure } from './validate';

const EVENTSTREAM = 'application/vnd.amazon.eventstream';

export async function generateRoute(call: RouteCall, kit: RouteKit): Promise<void> {
  const { record } = call;
  const account = kit.authorise(call);
  if (!account) return;
  if (account.suspended) return kit.refuse(call, httpOf(upstreamErrors.suspended()), 'account suspended');
  if (account.remainingCredits <= 0) return kit.refuse(call, httpOf(upstreamErrors.monthlyLimit()), 'credits exhausted');

  const validation = kit.upstream.validation;
  if (validation.enabled !== false) {
    // Size first (before the body is read), then the profile, then the body's own rules.
    const tooLarge = checkBodySize(record.rawBody, validation);
    if (!tooLarge && record.body !== undefined && refusedProfile(call, kit, account, (record.body as KiroGenerateBody).profileArn, checkStreamingProfile))
      return;
    const failure =
      tooLarge ??
      (record.body === undefined
        ? validationFailure('body_not_json', 'the body is not JSON')
        : validateGenerateBody(
            record.body,
            { models: account.modelIds, verifiesReasoning: (text, signature) => account.verifiesReasoning(text, signature) },
            validation,
          ));
    if (failure) {
      record.rejectedBy = failure.rule;
      return kit.refuse(call, { status: failure.status, body: failure.body, headers: failure.headers ?? {} }, failure.detail);
    }
  }

  const body = (record.body ?? {}) as KiroGenerateBody;
  const source = kit.nextScenario(account);
  const context: GenerateContext = { request: record, body, account, callNumber: account.servedCalls + 1 };
  const scenario: Scenario = typeof source === 'function' ? source(context) : source;
  account.servedCalls += 1;
  record.scenario = scenario.name ?? 'unnamed';

  const http = httpStepOf(scenario);
  if (http) {
    if (http.delayMs > 0) await sleep(http.delayMs, call.signal);
    if (!call.signal.aborted) kit.reply(call, http.reply);
    return;
  }

  account.charge(scenario.credits ?? account.creditsPerCall ?? meteredCredits(scenario));
  const modelId = body.conversationState?.currentMessage?.userInputMessage?.modelId;
  await stream(call, kit, scenario, { modelId: typeof modelId === 'string' ? modelId : undefined, signReasoning: (text) => account.signReasoning(text) });
}

async function stream(call: RouteCall, kit: RouteKit, scenario: Scenario, context: ExpandContext): Promise<void> {
  const { res, record, signal } = call;
  const actions = expandScenario(scenario, context);
  const conversationId = (record.body as KiroGenerateBody | undefined)?.conversationState?.conversationId;
  const sendHeaders = () => {
    if (res.headersSent) return;
    res.writeHead(200, {
      'content-type': scenario.contentType ?? EVENTSTREAM,
      'x-amzn-requestid': randomUUID(),
      ...(typeof conversationId === 'string' ? { 'x-amzn-codewhisperer-conversation-id': conversationId } : {}),
    });
    res.flushHeaders();
    record.status = 200;
    kit.notify();
  };
  if (!scenario.holdHeaders) sendHeaders();

  const writer = new ChunkWriter(res, signal, scenario.chunkBytes === undefined || scenario.chunkBytes === 'frame' ? 0 : scenario.chunkBytes);
  for (const action of actions) {
    if (signal.aborted) return;
    if (action.kind === 'frame') {
      sendHeaders();
      await writer.write(action.bytes);
      record.framesSent += 1;
      kit.notify();
    } else if (action.kind === 'delay') {
      await writer.flush();
      await sleep(action.ms, signal);
    } else if (action.kind === 'cut') {
      // Let the frames before the cut reach the client, then drop the connection mid-body.
      await writer.settled();
      kit.settle(record, 'cut');
      res.socket?.destroy();
      return;
    } else {
      await writer.flush();
      await untilAborted(signal);
      return;
    }
  }
  sendHeaders();
  await writer.flush();
  if (!signal.aborted) res.end();
}
