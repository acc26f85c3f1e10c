// Property: any sequence of messages — random roles, tool calls and results (paired, orphaned,
// unanswered, duplicated), empty blocks, images, thinking, long or odd tool names, junk schemas,
// server tools, any tool_choice — converts into a body that passes every rule the upstream is
// known to enforce (docs/kiro-protocol.md#conversation-rules), and nothing the client wrote is lost.
// Checked twice: by the validator below (written from the protocol notes apart from the converter) and by
// the fake upstream's (test/support/fake-upstream/validate.ts).
// Seeded: a failure prints the seed; re-run with KIRO_TEST_SEED=<seed>.
import { describe, expect, it } from 'vitest';
import { toKiroRequest, type KiroGenerateRequest, type KiroUserInputMessage } from '../../src/kiro/request/convert';
import { UUID_V4 } from '../../src/kiro/request/ids';
import type { ChatMessage, ChatRequest, ContentBlock, ImageBlock, TextBlock, ToolChoice, ToolDefinition } from '../../src/kiro/types';
import { validateGenerateBody } from '../support/fake-upstream/validate';
import { randomInt, seededRandom, testSeed } from '../support/random';

const MODEL = 'claude-sonnet-4.5';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const blank = (s: unknown) => typeof s !== 'string' || s.trim() === '';

/**
 * The upstream's rules as we know them, checked on the serialised body. Returns the broken rules
 * (empty when the body is acceptable). Deliberately written apart from the converter.
 */
function upstreamViolations(raw: unknown, modelId: string): string[] {
  const problems: string[] = [];
  const fail = (m: string) => problems.push(m);
  const body = JSON.parse(JSON.stringify(raw)) as KiroGenerateRequest;
  const state = body.conversationState;
  if (!isObject(state)) return ['no conversationState'];
  if (state.agentTaskType !== 'vibe') fail('agentTaskType');
  if (state.chatTriggerType !== 'MANUAL' && state.chatTriggerType !== 'AUTO') fail('chatTriggerType');
  if (typeof state.conversationId !== 'string' || !UUID_V4.test(state.conversationId)) fail('conversationId not a UUID v4');
  const current = state.currentMessage?.userInputMessage;
  if (!isObject(current)) return [...problems, 'no current message'];
  if (!Array.isArray(state.history)) return [...problems, 'history not an array'];

  const tools = current.userInputMessageContext?.tools ?? [];
  const defined = new Set<string>();
  for (const t of tools) {
    const spec = t.toolSpecification;
    if (!TOOL_NAME.test(spec.name)) fail(`tool name ${JSON.stringify(spec.name)} not accepted`);
    if (defined.has(spec.name)) fail(`tool ${spec.name} defined twice`);
    defined.add(spec.name);
    if (blank(spec.description)) fail(`tool ${spec.name} has an empty description`);
    if (Array.from(spec.description).length > 10_000) fail(`tool ${spec.name} description too long`);
    if (/^web_?search$/i.test(spec.name) && Object.keys((spec.inputSchema.json.properties as object) ?? {}).length === 0) fail('a server tool was sent');
    const schema = spec.inputSchema?.json;
    if (!isObject(schema) || schema.type !== 'object' || !isObject(schema.properties) || !Array.isArray(schema.required))
      fail(`tool ${spec.name} schema not an object schema`);
    else if (!schema.required.every((r) => typeof r === 'string')) fail(`tool ${spec.name} required has non-strings`);
    if (JSON.stringify(schema).match(/"\$(schema|ref|defs|id)"|"definitions"|:null[,}]/))
      fail(`tool ${spec.name} schema has $schema/$ref/$defs/definitions or nulls`);
  }

  const checkUser = (m: KiroUserInputMessage, where: string, isCurrent: boolean) => {
    if (blank(m.content)) fail(`${where}: empty user content`);
    if (m.modelId !== modelId) fail(`${where}: modelId`);
    if (m.origin !== 'AI_EDITOR') fail(`${where}: origin`);
    if (m.images !== undefined) {
      if (!Array.isArray(m.images) || m.images.length === 0) fail(`${where}: images present but empty`);
      for (const img of m.images ?? []) {
        if (!['png', 'jpeg', 'gif', 'webp'].includes(img.format)) fail(`${where}: image format`);
        if (!img.source || blank(img.source.bytes) || !BASE64.test(img.source.bytes)) fail(`${where}: image bytes`);
      }
    }
    const ctx = m.userInputMessageContext;
    if (!isCurrent && ctx !== undefined) {
      if ('tools' in ctx) fail(`${where}: tools on a history turn`);
      if (!Array.isArray(ctx.toolResults) || ctx.toolResults.length === 0) fail(`${where}: empty context on a history turn`);
    }
  };

  const roles = state.history.map((h) => ('userInputMessage' in h ? 'user' : 'assistant'));
  state.history.forEach((h, i) => {
    if (Object.keys(h).length !== 1) fail(`history[${i}] has more than one message`);
  });
  if (roles[0] === 'assistant') fail('history starts with assistant');
  roles.forEach((r, i) => {
    if (i > 0 && roles[i - 1] === r) fail(`history[${i - 1}] and [${i}] are both ${r}`);
  });
  if (roles.length > 0 && roles[roles.length - 1] !== 'assistant') fail('history ends with a user turn');

  const seenIds = new Set<string>();
  let pending: Set<string> | undefined;
  const turns = [...state.history, { userInputMessage: current }];
  turns.forEach((entry, i) => {
    const where = i === turns.length - 1 ? 'current' : `history[${i}]`;
    if ('assistantResponseMessage' in entry) {
      const m = entry.assistantResponseMessage;
      if (blank(m.content)) fail(`${where}: empty assistant content`);
      if (m.toolUses !== undefined && m.toolUses.length === 0) fail(`${where}: empty toolUses`);
      pending = new Set();
      for (const use of m.toolUses ?? []) {
        if (blank(use.toolUseId)) fail(`${where}: tool use without id`);
        if (seenIds.has(use.toolUseId)) fail(`${where}: duplicate toolUseId ${use.toolUseId}`);
        seenIds.add(use.toolUseId);
        pending.add(use.toolUseId);
        if (!isObject(use.input)) fail(`${where}: tool input not an object`);
        if (!defined.has(use.name)) fail(`${where}: tool ${use.name} used but not defined`);
      }
      return;
    }
    const m = entry.userInputMessage;
    checkUser(m, where, i === turns.length - 1);
    const answered = new Set<string>();
    for (const result of m.userInputMessageContext?.toolResults ?? []) {
      if (!pending?.has(result.toolUseId)) fail(`${where}: result ${result.toolUseId} answers no call of the turn before`);
      if (answered.has(result.toolUseId)) fail(`${where}: two results for ${result.toolUseId}`);
      answered.add(result.toolUseId);
      if (result.status !== 'success' && result.status !== 'error') fail(`${where}: result status`);
      if (!Array.isArray(result.content) || result.content.length === 0 || result.content.some((c) => blank(c.text))) fail(`${where}: empty result content`);
    }
    for (const id of pending ?? []) if (!answered.has(id)) fail(`${where}: call ${id} unanswered`);
    pending = undefined;
  });
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Random requests
// ---------------------------------------------------------------------------------------------

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const NAMES = [
  'Read',
  'Write',
  'Bash',
  'web_search',
  'files.read',
  'mcp__chrome-devtools__take_screenshot_of_the_whole_page_and_save_it_to_disk',
  'x'.repeat(64),
  'ユーザー検索',
];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

function randomText(rand: () => number, serial: { n: number }): string {
  const r = rand();
  if (r < 0.12) return '';
  if (r < 0.2) return '  \n ';
  return `text-${++serial.n} ${pick(rand, ['hello', 'with "quotes"', 'ünïcødé 😀', '<thinking>not really</thinking>', 'line\nbreak'])}`;
}

function randomImage(rand: () => number): ImageBlock {
  return { type: 'image', mediaType: pick(rand, ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const), data: rand() < 0.1 ? '' : PNG };
}

function randomBlock(rand: () => number, role: 'user' | 'assistant', ids: string[], serial: { n: number }): ContentBlock {
  const r = rand();
  if (r < 0.35) return { type: 'text', text: randomText(rand, serial) };
  if (r < 0.45) return randomImage(rand);
  if (r < 0.55) return { type: 'thinking', thinking: randomText(rand, serial) };
  if (role === 'assistant' ? r < 0.9 : r < 0.62) {
    const id = rand() < 0.15 && ids.length ? pick(rand, ids) : rand() < 0.05 ? '' : `tooluse_${++serial.n}`;
    ids.push(id);
    const input = pick(rand, [{ path: 'a' }, {}, '{"json":"string"}', 'plain', 7, null, [1, 2]] as const);
    return { type: 'tool_use', id, name: pick(rand, NAMES), input };
  }
  const content: (TextBlock | ImageBlock)[] = [];
  for (let k = randomInt(rand, 0, 2); k > 0; k--) content.push(rand() < 0.8 ? { type: 'text', text: randomText(rand, serial) } : randomImage(rand));
  const toolUseId = rand() < 0.75 && ids.length ? pick(rand, ids) : `ghost_${++serial.n}`;
  return { type: 'tool_result', toolUseId, content, isError: rand() < 0.3 };
}

function randomTool(rand: () => number, name: string): ToolDefinition {
  const schemas: Record<string, unknown>[] = [
    { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] },
    { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { a: { $ref: '#/$defs/A' } }, $defs: { A: { type: 'string' } } },
    { type: 'object', properties: null, required: null },
    { properties: { x: null, y: { type: 3 } }, required: ['x', 'z', 4] },
    {},
    { type: 'object', properties: { node: { $ref: '#/$defs/N' } }, $defs: { N: { type: 'object', properties: { next: { $ref: '#/$defs/N' } } } } },
  ];
  const description = pick(rand, ['', '   ', `Use ${name}.`, 'd'.repeat(10_050)]);
  return { name, description, inputSchema: name === 'web_search' && rand() < 0.7 ? {} : pick(rand, schemas) };
}

function randomRequest(rand: () => number): ChatRequest {
  const serial = { n: 0 };
  const ids: string[] = [];
  const messages: ChatMessage[] = [];
  for (let i = randomInt(rand, 1, 9); i > 0; i--) {
    const role = rand() < 0.5 ? 'user' : 'assistant';
    const content: ContentBlock[] = [];
    for (let k = randomInt(rand, 0, 4); k > 0; k--) content.push(randomBlock(rand, role, ids, serial));
    messages.push({ role, content });
  }
  const tools = NAMES.filter(() => rand() < 0.4).map((n) => randomTool(rand, n));
  if (rand() < 0.1 && tools.length) tools.push(tools[0]!);
  const choice = pick<ToolChoice | undefined>(rand, [
    undefined,
    { type: 'auto' },
    { type: 'any' },
    { type: 'none' },
    { type: 'tool', name: pick(rand, NAMES) },
  ]);
  return {
    api: 'anthropic',
    model: 'claude-sonnet-4-5',
    system: rand() < 0.5 ? [randomText(rand, serial)] : [],
    messages,
    tools,
    ...(choice ? { toolChoice: choice } : {}),
    ...(rand() < 0.3 ? { thinking: { budgetTokens: randomInt(rand, 1024, 32000) } } : {}),
    ...(rand() < 0.5 ? { sessionKey: `session-${randomInt(rand, 1, 5)}` } : {}),
    stopSequences: [],
    stream: rand() < 0.5,
  };
}

/** Every string in the body, for "nothing lost" checks. */
function allStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) allStrings(v, out);
  else if (isObject(value)) for (const v of Object.values(value)) allStrings(v, out);
  return out;
}

describe('toKiroRequest on random conversations', () => {
  const seed = testSeed();
  const runs = 600;

  it(`always produces a body the upstream accepts, losing nothing (seed ${seed}, ${runs} runs)`, () => {
    const rand = seededRandom(seed);
    for (let run = 0; run < runs; run++) {
      const request = randomRequest(rand);
      if (request.messages.length === 0) continue;
      const before = JSON.stringify(request);
      const label = `seed ${seed}, run ${run}: ${before.slice(0, 1500)}`;
      const { body, repairs, toolNames } = toKiroRequest(request, { kiroModel: MODEL });

      expect(upstreamViolations(body, MODEL), label).toEqual([]);
      // The fake upstream's validator: another reading of the same rules, kept by its own tests.
      expect(validateGenerateBody(JSON.parse(JSON.stringify(body)), { models: [MODEL] }), label).toBeUndefined();
      expect(JSON.stringify(request), `${label} (input mutated)`).toBe(before);

      // Every tool name sent maps back to a name the client used.
      const clientNames = new Set([
        ...request.tools.map((t) => t.name),
        ...request.messages.flatMap((m) => m.content.flatMap((b) => (b.type === 'tool_use' ? [b.name] : []))),
      ]);
      for (const t of body.conversationState.currentMessage.userInputMessage.userInputMessageContext.tools ?? []) {
        expect(clientNames.has(toolNames.fromKiro(t.toolSpecification.name)), label).toBe(true);
      }

      // Nothing the client wrote is lost: every non-blank text and tool result text is in the body,
      // except past thinking when thinking is off (reported as a repair).
      const strings = allStrings(body.conversationState).join('\u0000');
      const thinkingOn = request.thinking !== undefined;
      for (const message of request.messages) {
        for (const block of message.content) {
          const texts =
            block.type === 'text'
              ? [block.text]
              : block.type === 'tool_result'
                ? block.content.flatMap((c) => (c.type === 'text' ? [c.text] : []))
                : block.type === 'thinking' && (thinkingOn || message.role === 'user')
                  ? [block.thinking]
                  : [];
          for (const text of texts) if (text.trim() !== '') expect(strings.includes(text), `${label}: lost ${JSON.stringify(text)}`).toBe(true);
        }
      }
      for (const sys of request.system) if (sys.trim() !== '') expect(strings.includes(sys), label).toBe(true);
      if (!thinkingOn && request.messages.some((m) => m.role === 'assistant' && m.content.some((b) => b.type === 'thinking' && b.thinking.trim() !== ''))) {
        expect(
          repairs.map((r) => r.rule),
          label,
        ).toContain('thinking-dropped');
      }

      // Every user image with data reaches the body.
      const sentImages = [
        ...body.conversationState.history.flatMap((h) => ('userInputMessage' in h ? (h.userInputMessage.images ?? []) : [])),
        ...(body.conversationState.currentMessage.userInputMessage.images ?? []),
      ];
      const clientImages = request.messages
        .filter((m) => m.role === 'user')
        .flatMap((m) => m.content.flatMap((b) => (b.type === 'image' ? [b] : b.type === 'tool_result' ? b.content.filter((c) => c.type === 'image') : [])))
        .filter((img) => img.data !== '');
      expect(sentImages.length, label).toBe(clientImages.length);

      for (const r of repairs) expect(r.detail.trim(), label).not.toBe('');
    }
  });

  it('checks the validator itself catches what the upstream rejects', () => {
    const good = toKiroRequest(
      {
        api: 'anthropic',
        model: 'm',
        system: ['s'],
        messages: [{ role: 'user', content: [{ type: 'text', text: 'q' }] }],
        tools: [],
        stopSequences: [],
        stream: false,
      },
      { kiroModel: MODEL },
    ).body;
    expect(upstreamViolations(good, MODEL)).toEqual([]);
    const broken = structuredClone(good);
    broken.conversationState.history.push({ assistantResponseMessage: { content: '' } });
    expect(upstreamViolations(broken, MODEL)).toEqual(expect.arrayContaining(['history[2]: empty assistant content', 'history[1] and [2] are both assistant']));
    const toolless = structuredClone(good);
    toolless.conversationState.history[1] = { assistantResponseMessage: { content: 'x', toolUses: [{ toolUseId: 't', name: 'Read', input: {} }] } };
    expect(upstreamViolations(toolless, MODEL)).toEqual(['history[1]: tool Read used but not defined', 'current: call t unanswered']);
  });
});
