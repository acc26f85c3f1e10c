// Emulated structured output, piece by piece: finding the JSON in an answer, validating it (Ajv,
// loaded lazily), the system prompt instruction, the Anthropic request fields, and the usage of
// discarded attempts. The whole flow (retry, errors, SDKs) is in test/contract/structured-output.
import { describe, expect, it } from 'vitest';
import { InvalidRequestError, parseAnthropicRequest } from '../../src/bridge/anthropic/anthropic-input';
import { closingIndex, extractJson, truncatedJson } from '../../src/bridge/pipeline/json-extract';
import { SchemaCompileError, schemaValidator, validatorLoaded } from '../../src/bridge/pipeline/json-schema-validator';
import { UsageMeter } from '../../src/bridge/pipeline/output';
import { checkResponseFormat, correctionMessage, textPieces } from '../../src/bridge/pipeline/structured-output';
import { thinkingDirective, toKiroRequest } from '../../src/kiro/request/convert';
import { responseFormatInstruction } from '../../src/kiro/request/response-format';
import type { ChatRequest } from '../../src/kiro/types';

const PERSON = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    age: { type: 'integer', minimum: 0 },
    role: { enum: ['admin', 'user'] },
  },
  required: ['name', 'age'],
  additionalProperties: false,
};

describe('loading', () => {
  // First in the file: nothing before it has asked for a validator.
  it('loads Ajv only when a schema is first validated', async () => {
    expect(validatorLoaded()).toBe(false);
    await schemaValidator({ type: 'object' });
    expect(validatorLoaded()).toBe(true);
  });
});

describe('extractJson', () => {
  const values = (text: string) => extractJson(text).candidates.map((c) => [c.from, c.value]);

  it('takes an answer that is all JSON as it is, whatever the value', () => {
    expect(values('  {"a": 1}\n')).toEqual([['whole', { a: 1 }]]);
    expect(values('[1, 2]')).toEqual([['whole', [1, 2]]]);
    expect(values('"just a string"')).toEqual([['whole', 'just a string']]);
    expect(extractJson('{"a": 1}').candidates[0]!.text).toBe('{"a": 1}');
  });

  it('finds JSON in fenced code blocks, with or without a language, prose around them', () => {
    const text = 'Here it is:\n\n```json\n{"name": "Ada", "age": 36}\n```\n\nAnd a second try:\n```\n{"name": "Bob", "age": 7}\n```\nDone.';
    const { candidates } = extractJson(text);
    expect(candidates.map((c) => [c.from, c.value])).toEqual([
      ['fence', { name: 'Ada', age: 36 }],
      ['fence', { name: 'Bob', age: 7 }],
    ]);
    expect(candidates[0]!.text).toBe('{"name": "Ada", "age": 36}');
  });

  it('finds the outermost object or array inside prose, skipping brackets that are not JSON', () => {
    expect(values('Sure! The result is {"a": {"b": [1, 2]}} — anything else?')).toEqual([['prose', { a: { b: [1, 2] } }]]);
    expect(values('Use {braces} like so: {"k": "v"}')).toEqual([['prose', { k: 'v' }]]);
    expect(values('Two of them: [1] and {"x": true}.')).toEqual([
      ['prose', [1]],
      ['prose', { x: true }],
    ]);
  });

  it('is not fooled by brackets and quotes inside strings', () => {
    expect(values('Result: {"text": "a } and a { and \\"quoted ]\\"", "n": 1} end')).toEqual([['prose', { text: 'a } and a { and "quoted ]"', n: 1 }]]);
  });

  it('says why when nothing parses', () => {
    expect(extractJson('').parseError).toBe('the answer is empty');
    expect(extractJson('   ').parseError).toBe('the answer is empty');
    expect(extractJson('I cannot help with that.').parseError).toBe('the answer contains no JSON object or array');
    expect(extractJson('```json\n{"a": 1,}\n```').parseError).toMatch(/^the fenced code block is not valid JSON \(/);
    expect(extractJson('Here: {"a": 1, "b": ').parseError).toMatch(/no complete JSON object or array was found/);
    expect(extractJson('So {"a": tru} then').parseError).toMatch(/^the bracketed text is not valid JSON/);
  });

  it('closingIndex balances brackets of both kinds and fails on a mismatch or the end', () => {
    expect(closingIndex('{"a": [1, {"b": 2}]} tail', 0)).toBe(20);
    expect(closingIndex('{"a": [1}', 0)).toBe(-1);
    expect(closingIndex('{"a": 1', 0)).toBe(-1);
  });

  it('truncatedJson keeps the JSON part of an answer cut short', () => {
    expect(truncatedJson('Here:\n```json\n{"a": [1, 2')).toBe('{"a": [1, 2');
    expect(truncatedJson('Sure: {"a": "long')).toBe('{"a": "long');
    expect(truncatedJson('no json at all ')).toBe('no json at all');
  });
});

describe('schemaValidator', () => {
  it('accepts a matching value and says what is wrong with others, one line per problem', async () => {
    const validator = await schemaValidator(PERSON);
    expect(validator.validate({ name: 'Ada', age: 36, role: 'admin' })).toEqual([]);
    const errors = validator.validate({ age: 1.5, role: 'root', extra: true });
    expect(errors).toContain("(root): must have required property 'name'");
    expect(errors).toContain('/age: must be integer');
    expect(errors).toContain('/role: must be equal to one of the allowed values (["admin","user"])');
    expect(errors).toContain('(root): must NOT have additional properties ("extra")');
  });

  it('checks formats (date-time, email, uuid) and ignores formats and keywords it does not know', async () => {
    const validator = await schemaValidator({
      type: 'object',
      properties: {
        at: { type: 'string', format: 'date-time' },
        mail: { type: 'string', format: 'email' },
        id: { type: 'string', format: 'uuid' },
        x: { type: 'string', format: 'zip-code', 'x-order': 1 },
      },
    });
    expect(validator.validate({ at: '2025-01-02T03:04:05Z', mail: 'a@b.example', id: '0f8fad5b-d9cb-469f-a165-70867728950e', x: 'anything' })).toEqual([]);
    expect(validator.validate({ at: '2025-01-02', mail: 'not mail', id: '42' })).toEqual([
      '/at: must match format "date-time"',
      '/mail: must match format "email"',
      '/id: must match format "uuid"',
    ]);
  });

  it('reads draft-07 ($schema, definitions) and 2020-12 ($defs) schemas, and draft-07 tuples without $schema', async () => {
    const draft07 = await schemaValidator({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { item: { $ref: '#/definitions/item' } },
      definitions: { item: { type: 'number' } },
    });
    expect(draft07.validate({ item: 1 })).toEqual([]);
    expect(draft07.validate({ item: 'x' })).toEqual(['/item: must be number']);
    const draft2020 = await schemaValidator({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'array',
      prefixItems: [{ type: 'string' }],
      items: { $ref: '#/$defs/n' },
      $defs: { n: { type: 'number' } },
    });
    expect(draft2020.validate(['a', 1, 2])).toEqual([]);
    expect(draft2020.validate(['a', 'b'])).toEqual(['/1: must be number']);
    const tuple = await schemaValidator({ type: 'array', items: [{ type: 'string' }, { type: 'number' }] });
    expect(tuple.validate(['a', 1])).toEqual([]);
    expect(tuple.validate([1, 'a'])).toHaveLength(2);
  });

  it('refuses a schema that is not JSON Schema', async () => {
    await expect(schemaValidator({ type: 'objekt' })).rejects.toBeInstanceOf(SchemaCompileError);
    await expect(schemaValidator({ type: 'object', properties: { a: { $ref: 'https://example.com/s.json' } } })).rejects.toThrow(/not valid JSON Schema/);
  });

  it('compiles once per schema, and two schemas with the same $id both work', async () => {
    expect(await schemaValidator(structuredClone(PERSON))).toBe(await schemaValidator(structuredClone(PERSON)));
    const a = await schemaValidator({ $id: 'https://example.com/thing', type: 'string' });
    const b = await schemaValidator({ $id: 'https://example.com/thing', type: 'number' });
    expect(a.validate('x')).toEqual([]);
    expect(b.validate(1)).toEqual([]);
    expect(b.validate('x')).toEqual(['(root): must be number']);
  });

  it('checkResponseFormat turns a bad schema into a 400 naming the field', async () => {
    await expect(checkResponseFormat({ param: 'output_config.format.schema', schema: { type: 7 } })).rejects.toSatisfy(
      (error) =>
        error instanceof InvalidRequestError && (error as Error).message.startsWith('output_config.format.schema: the schema is not valid JSON Schema'),
    );
    await expect(checkResponseFormat({ param: 'response_format' })).resolves.toBeUndefined();
  });
});

describe('the request Kiro gets', () => {
  const request = (extra: Partial<ChatRequest>): ChatRequest => ({
    api: 'anthropic',
    model: 'claude-sonnet-4-5',
    system: ['You are terse.'],
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Who?' }] }],
    tools: [],
    stopSequences: [],
    stream: false,
    ...extra,
  });
  const systemText = (r: ChatRequest, thinkingBudget?: number) => {
    const result = toKiroRequest(r, { kiroModel: 'claude-sonnet-4.5', thinkingBudget });
    return { text: (result.body.conversationState.history[0] as { userInputMessage: { content: string } }).userInputMessage.content, repairs: result.repairs };
  };

  it('puts the schema in the system prompt, after the client system text, and lists it as a routine change', () => {
    const format = { schema: PERSON, name: 'person', description: 'Who it is', param: 'response_format.json_schema.schema' };
    const { text, repairs } = systemText(request({ responseFormat: format }));
    expect(text.startsWith('You are terse.\n\n')).toBe(true);
    expect(text).toContain(responseFormatInstruction(format));
    expect(text).toContain(JSON.stringify(PERSON));
    expect(text).toContain('named "person" (Who it is)');
    expect(repairs).toContainEqual({
      rule: 'response-format-in-prompt',
      detail: expect.stringContaining('the JSON schema "person" was put in the system prompt'),
      routine: true,
    });
  });

  it('keeps the thinking directive first', () => {
    const { text } = systemText(request({ responseFormat: { param: 'response_format' } }), 4000);
    expect(text.startsWith(thinkingDirective(4000))).toBe(true);
    expect(text).toContain('Your answer must be a single valid JSON object.');
  });

  it('adds nothing without a response format', () => {
    const { text, repairs } = systemText(request({}));
    expect(text).toBe('You are terse.');
    expect(repairs.map((r) => r.rule)).not.toContain('response-format-in-prompt');
  });

  it('the correction names the problem and asks for the JSON alone', () => {
    expect(correctionMessage('/age: must be integer', { schema: PERSON, param: 'p' })).toBe(
      'Your previous answer cannot be used: /age: must be integer. Answer again with only the JSON value that matches the JSON Schema in your instructions: no other text, no Markdown code fence.',
    );
  });
});

describe('Anthropic output_config.format and output_format', () => {
  const base = { model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] };
  const parse = (body: Record<string, unknown>) => parseAnthropicRequest({ ...base, ...body }, { defaultThinkingBudget: 16_000 });
  const rejection = (body: Record<string, unknown>) => {
    try {
      parse(body);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidRequestError);
      return (error as Error).message;
    }
    throw new Error('expected a rejection');
  };

  it('reads the GA field and its deprecated beta name', () => {
    expect(parse({ output_config: { format: { type: 'json_schema', schema: PERSON }, effort: 'high' } }).request.responseFormat).toEqual({
      schema: PERSON,
      param: 'output_config.format.schema',
    });
    expect(parse({ output_format: { type: 'json_schema', schema: PERSON } }).request.responseFormat).toEqual({ schema: PERSON, param: 'output_format.schema' });
    expect(parse({ output_config: { effort: 'low' } }).request.responseFormat).toBeUndefined();
    expect(parse({ output_config: { format: null } }).request.responseFormat).toBeUndefined();
  });

  it('refuses malformed formats, naming the field', () => {
    expect(rejection({ output_config: 'json' })).toMatch(/^output_config: /);
    expect(rejection({ output_config: { format: { type: 'json_object' } } })).toMatch(/^output_config\.format\.type: Input should be 'json_schema'/);
    expect(rejection({ output_config: { format: { type: 'json_schema' } } })).toBe('output_config.format.schema: Field required');
    expect(rejection({ output_format: { type: 'json_schema', schema: true } })).toMatch(/^output_format\.schema: /);
    expect(rejection({ output_format: { type: 'json_schema', schema: PERSON }, output_config: { format: { type: 'json_schema', schema: PERSON } } })).toMatch(
      /^output_format: send either/,
    );
  });
});

describe('pieces and usage', () => {
  it('textPieces splits long JSON into deltas without cutting a character in two', () => {
    const text = `${'a'.repeat(511)}😀${'b'.repeat(600)}`;
    const pieces = textPieces(text);
    expect(pieces.join('')).toBe(text);
    expect(pieces.every((p) => p.length <= 512)).toBe(true);
    expect(pieces[0]).toBe('a'.repeat(511));
    expect(textPieces('{}')).toEqual(['{}']);
  });

  it('UsageMeter adds unseen tokens, and Kiro’s own prompt measure does not erase them', () => {
    const meter = new UsageMeter({ inputTokens: 100, countTokens: (t) => t.length, contextWindow: 200_000 });
    meter.observe({ type: 'usage', unseen: { inputTokens: 150, outputTokens: 40, reasoningTokens: 10 }, credits: 0.5 });
    expect(meter.totals).toEqual({ inputTokens: 250, outputTokens: 40, credits: 0.5 });
    expect(meter.reasoningTokens).toBe(10);
    meter.observe({ type: 'usage', contextUsagePercentage: 0.1 });
    expect(meter.inputTokens).toBe(200 + 150);
    meter.text('abc');
    expect(meter.outputTokens).toBe(43);
  });

  it("UsageMeter: Kiro's token counts of the answer's call replace estimates, and unseen tokens still add up", () => {
    const meter = new UsageMeter({ inputTokens: 100, countTokens: (t) => t.length, contextWindow: 200_000 });
    meter.observe({ type: 'usage', tokens: { uncachedInputTokens: 5, cacheReadInputTokens: 300, cacheWriteInputTokens: 20, outputTokens: 9 } });
    meter.text('a much longer text than nine tokens');
    meter.observe({ type: 'usage', unseen: { inputTokens: 150, outputTokens: 40, reasoningTokens: 10 } });
    meter.observe({ type: 'usage', contextUsagePercentage: 50 });
    expect(meter.totals).toEqual({ inputTokens: 325 + 150, outputTokens: 9 + 40, credits: undefined, cacheReadTokens: 300, cacheWriteTokens: 20 });
    expect(meter.uncachedInputTokens).toBe(5 + 150);
  });
});
