// Each account's generate body is made from the one measured serialization by swapping the
// conversation id and adding the profile ARN; it must be exactly what serializing it would give.
import { describe, expect, it } from 'vitest';
import { accountBodyText } from '../../src/kiro/request/body-text';
import { toKiroRequest } from '../../src/kiro/request/convert';
import { conversationIdFor, conversationIds } from '../../src/kiro/request/ids';
import type { ChatRequest } from '../../src/kiro/types';
import { randomInt, seededRandom, testSeed } from '../support/random';

const ARN = 'arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK';

function request(text: string, extra: Partial<ChatRequest> = {}): ChatRequest {
  return {
    api: 'anthropic',
    model: 'claude-sonnet-4-5',
    system: ['Be brief.'],
    messages: [{ role: 'user', content: [{ type: 'text', text }] }],
    tools: [],
    stopSequences: [],
    stream: false,
    ...extra,
  };
}

/** What openUpstream sent before: the whole body serialized for the account. */
function serialized(body: ReturnType<typeof toKiroRequest>['body'], conversationId: string, profileArn: string | undefined): string {
  return JSON.stringify({ ...body, conversationState: { ...body.conversationState, conversationId }, ...(profileArn ? { profileArn } : {}) });
}

describe('accountBodyText', () => {
  it('equals serializing the account’s body, with and without a profile', () => {
    const chat = request('Hi there');
    const ids = conversationIds(chat);
    const { body } = toKiroRequest(chat, { kiroModel: 'claude-sonnet-4.5', conversationId: ids() });
    const measured = JSON.stringify(body);
    for (const profileArn of [ARN, undefined, '']) {
      expect(accountBodyText(measured, body, ids('account-1'), profileArn)).toBe(serialized(body, ids('account-1'), profileArn));
    }
  });

  it('is not fooled by the conversation id inside the conversation', () => {
    const probe = request('x');
    const id = conversationIds(probe)();
    // The id as text, and as a structural key of a tool's input: serialized the slow way.
    for (const chat of [
      request(`"conversationId":"${id}"`),
      request('use the tool', {
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'x' }] },
          { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'note', input: { conversationId: id } }] },
          { role: 'user', content: [{ type: 'tool_result', toolUseId: 't1', content: [{ type: 'text', text: 'ok' }], isError: false }] },
        ],
        tools: [{ name: 'note', description: 'notes', inputSchema: { type: 'object', properties: { conversationId: { type: 'string' } } } }],
      }),
    ]) {
      const { body } = toKiroRequest(chat, { kiroModel: 'claude-sonnet-4.5', conversationId: id });
      expect(accountBodyText(JSON.stringify(body), body, 'b1d2e3f4-0000-4000-8000-000000000000', ARN)).toBe(
        serialized(body, 'b1d2e3f4-0000-4000-8000-000000000000', ARN),
      );
    }
  });

  it('keeps a profile the body already carries in place', () => {
    const chat = request('Hi');
    const { body } = toKiroRequest(chat, { kiroModel: 'claude-sonnet-4.5', conversationId: conversationIdFor(chat), profileArn: 'arn:old' });
    expect(accountBodyText(JSON.stringify(body), body, conversationIdFor(chat, 'a'), ARN)).toBe(serialized(body, conversationIdFor(chat, 'a'), ARN));
  });

  it('equals serializing on random conversations', () => {
    const seed = testSeed();
    const rand = seededRandom(seed);
    const pieces = ['hello', ' ', '"', '\\', '{', '}', 'conversationId', ':', 'ünï', '🎉', '\n', 'profileArn'];
    for (let i = 0; i < 50; i++) {
      let text = '';
      for (let k = randomInt(rand, 1, 40); k > 0; k--) text += pieces[randomInt(rand, 0, pieces.length - 1)];
      const chat = request(text, { sessionKey: rand() < 0.5 ? `session-${i}` : undefined });
      const ids = conversationIds(chat);
      const { body } = toKiroRequest(chat, { kiroModel: 'claude-sonnet-4.5', conversationId: ids() });
      const profileArn = rand() < 0.5 ? ARN : undefined;
      expect(accountBodyText(JSON.stringify(body), body, ids(`account-${i}`), profileArn), `seed ${seed}`).toBe(
        serialized(body, ids(`account-${i}`), profileArn),
      );
    }
  });
});

describe('conversationIds', () => {
  it('gives the ids conversationIdFor gives, per account', () => {
    const chat = request('Hi there');
    const ids = conversationIds(chat);
    expect(ids()).toBe(conversationIdFor(chat));
    expect(ids('account-1')).toBe(conversationIdFor(chat, 'account-1'));
    expect(ids('account-1')).not.toBe(ids('account-2'));
  });
});
