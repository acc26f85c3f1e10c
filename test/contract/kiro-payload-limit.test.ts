// Kiro refuses request bodies above roughly 600 KB. The bridge measures the body it would send
// and refuses it first, in the words clients compact on: Anthropic's 400 "prompt is too long:
// N tokens > M maximum", OpenAI's 400 context_length_exceeded. The fake upstream refuses bodies
// over the same limit, so every request that reaches it here proves the bridge sent nothing
// larger. Clients: the official Anthropic and OpenAI SDKs.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_KIRO_REQUEST_BYTES, PROFILE_ARN_ALLOWANCE } from '../../src/kiro/request/payload-limit';
import { DEFAULT_MAX_BODY_BYTES, textReply } from '../support/fake-upstream';
import { useHarness, type Harness } from './harness';

const MODEL = 'claude-sonnet-4-5';
/** The user id keeps the conversation id (and so the body's size) the same from call to call. */
const METADATA = { user_id: 'user_limits_session_0123456789' };
/** Claude Code's reading of a prompt-too-long message: it compacts, and drops N − M tokens' worth. */
const CLAUDE_CODE_PROMPT_TOO_LONG = /prompt is too long[^0-9]*(\d+)\s*tokens?\s*>\s*(\d+)/i;

// A 2×3 PNG's bytes: a real header, so the bridge's image token estimate can read its size.
const PNG_2X3 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAADCAIAAAA2iEnWAAAAEklEQVR4nGP4z8DAwMDAxAAAJAYBA+o3uu8AAAAASUVORK5CYII=', 'base64');

let h: Harness;
useHarness((harness) => (h = harness));

beforeEach(() => {
  h.upstream.clearScripts();
  h.upstream.clearRecords();
});

const ask = (content: string) => h.client.messages.create({ model: MODEL, max_tokens: 64, metadata: METADATA, messages: [{ role: 'user', content }] });

/** UTF-8 bytes of the Kiro body the fake received last, and of its profile ARN part. */
function lastBodyBytes(): { total: number; arnPart: number } {
  const record = h.upstream.lastGenerate();
  const body = record.body as { profileArn?: string };
  const arnPart = body.profileArn ? Buffer.byteLength(`,"profileArn":${JSON.stringify(body.profileArn)}`) : 0;
  return { total: Buffer.byteLength(record.rawBody), arnPart };
}

describe('a request whose Kiro body would be over the limit', () => {
  it('the limit is the one the fake upstream (like Kiro) enforces', () => {
    expect(MAX_KIRO_REQUEST_BYTES).toBe(DEFAULT_MAX_BODY_BYTES);
  });

  it('Anthropic SDK: 400 invalid_request_error "prompt is too long: N tokens > M maximum", nothing sent to Kiro', async () => {
    const error = await ask('x'.repeat(700 * 1024)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    const body = (error as InstanceType<typeof Anthropic.BadRequestError>).error as { type: string; error: { type: string; message: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/^prompt is too long: \d+ tokens > \d+ maximum/);
    const [, tokens, maximum] = CLAUDE_CODE_PROMPT_TOO_LONG.exec(body.error.message)!;
    expect(Number(tokens)).toBeGreaterThan(Number(maximum));
    // The gap is the share of the request over the limit (700 KiB of text against 600 KiB).
    expect(Number(maximum) / Number(tokens)).toBeGreaterThan(0.8);
    expect(Number(maximum) / Number(tokens)).toBeLessThan(600 / 700);
    expect(body.error.message).toContain('600 KB');
    expect(h.upstream.generateRequests).toHaveLength(0);

    const record = h.finished.at(-1)!;
    expect(record.status).toBe(400);
    expect(record.error?.message).toMatch(/^prompt is too long/);
    expect(record.attempts).toEqual([]);
    expect(
      record.repairs.some((note) => /^not sent to Kiro: the request body would be \d+ bytes \(\d+ KB\), over the 614400 bytes \(600 KB\)/.test(note)),
    ).toBe(true);
  });

  it('streaming: the same 400 before the stream starts', async () => {
    const error = await h.client.messages
      .create({ model: MODEL, max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'x'.repeat(650 * 1024) }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as Error).message).toMatch(/prompt is too long: \d+ tokens > \d+ maximum/);
    expect(h.upstream.generateRequests).toHaveLength(0);
  });

  it('images count: a large base64 image takes the body over the limit', async () => {
    const image = Buffer.concat([PNG_2X3, Buffer.alloc(500 * 1024, 7)]).toString('base64');
    const error = await h.client.messages
      .create({
        model: MODEL,
        max_tokens: 64,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is in this picture?' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: image } },
            ],
          },
        ],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as Error).message).toMatch(/prompt is too long/);
    expect(h.upstream.generateRequests).toHaveLength(0);
  });

  it('OpenAI SDK: chat completions and responses get 400 context_length_exceeded', async () => {
    const openai = h.openai();
    const chat = await openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x'.repeat(700 * 1024) }] }).catch((e: unknown) => e);
    expect(chat).toBeInstanceOf(OpenAI.BadRequestError);
    expect((chat as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('context_length_exceeded');
    expect((chat as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('messages');
    expect((chat as Error).message).toMatch(/prompt is too long: \d+ tokens > \d+ maximum/);

    const responses = await openai.responses.create({ model: MODEL, input: 'x'.repeat(700 * 1024) }).catch((e: unknown) => e);
    expect(responses).toBeInstanceOf(OpenAI.BadRequestError);
    expect((responses as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('context_length_exceeded');
    expect((responses as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('input');
    expect(h.upstream.generateRequests).toHaveLength(0);
  });
});

describe('at the limit', () => {
  it('the largest body the bridge sends passes the fake upstream; one byte more is refused before sending', async () => {
    // Measure the body of a small request, then grow the text to land exactly on the limit.
    h.upstream.scriptNext(textReply('small'));
    await ask('x');
    const probe = lastBodyBytes();
    // The bridge keeps room for the profile ARN: the body without it may be at most this.
    const largest = MAX_KIRO_REQUEST_BYTES - PROFILE_ARN_ALLOWANCE;
    const fill = 1 + largest - (probe.total - probe.arnPart);

    h.upstream.scriptNext(textReply('just fits'));
    const fits = await ask('x'.repeat(fill));
    expect(fits.content).toEqual([{ type: 'text', text: 'just fits' }]);
    const sent = lastBodyBytes();
    expect(sent.total - sent.arnPart).toBe(largest);
    expect(sent.total).toBeLessThanOrEqual(MAX_KIRO_REQUEST_BYTES);
    expect(h.upstream.lastGenerate().status).toBe(200);

    const before = h.upstream.generateRequests.length;
    const over = await ask('x'.repeat(fill + 1)).catch((e: unknown) => e);
    expect(over).toBeInstanceOf(Anthropic.BadRequestError);
    expect(h.upstream.generateRequests).toHaveLength(before);
  });

  it('without the bridge check the fake upstream would refuse it: a body over the limit sent directly gets CONTENT_LENGTH_EXCEEDS_THRESHOLD', async () => {
    h.upstream.scriptNext(textReply('small'));
    await ask('x');
    const record = h.upstream.lastGenerate();
    const body = record.body as { conversationState: { currentMessage: { userInputMessage: { content: string } } } };
    body.conversationState.currentMessage.userInputMessage.content = 'x'.repeat(MAX_KIRO_REQUEST_BYTES);
    const res = await fetch(`${h.upstream.baseUrl}/generateAssistantResponse`, {
      method: 'POST',
      headers: { authorization: String(record.headers.authorization), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ reason: 'CONTENT_LENGTH_EXCEEDS_THRESHOLD' });
  });
});
