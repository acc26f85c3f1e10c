// OutputEvents for the answer writers' tests: Kiro events run through the real assembler, the
// scenarios every chat API's writer is checked on, and a deterministic stand-in tokenizer.
import { ResponseAssembler } from '../../src/kiro/response/assemble';
import type { KiroEvent } from '../../src/kiro/codec/events';
import type { OutputEvent } from '../../src/kiro/types';

/** A deterministic stand-in tokenizer: one token per started group of four characters. */
export const countTokens = (text: string) => Math.ceil(text.length / 4);

export const kiroText = (content: string): KiroEvent => ({ kind: 'event', type: 'assistantResponseEvent', json: { content } });
export const kiroTool = (json: Record<string, unknown>): KiroEvent => ({ kind: 'event', type: 'toolUseEvent', json });
export const kiroReasoning = (json: Record<string, unknown>): KiroEvent => ({ kind: 'event', type: 'reasoningContentEvent', json });
export const kiroTokenUsage = (tokenUsage: Record<string, number>): KiroEvent => ({ kind: 'event', type: 'metadataEvent', json: { tokenUsage } });

/** Kiro's native reasoning signed, an answer, a tool call, and Kiro's own token counts. */
export const nativeReasoningEvents = (): OutputEvent[] =>
  assemble([
    kiroReasoning({ text: 'The user wants ' }),
    kiroReasoning({ text: 'a file listing.' }),
    kiroReasoning({ signature: 'EqQBCkgIARABGAIiQKiroSignature0123456789+/==' }),
    kiroText('Listing now.'),
    kiroTool({ toolUseId: 'tooluse_CCCCCCCCCCCCCCCCCCCCCC', name: 'ls', input: '{"path":"."}', stop: true }),
    kiroTokenUsage({ uncachedInputTokens: 120, cacheReadInputTokens: 3000, cacheWriteInputTokens: 400, outputTokens: 57, totalTokens: 3577 }),
    { kind: 'event', type: 'meteringEvent', json: { unit: 'credit', unitPlural: 'credits', usage: 0.2 } },
  ]);

/** The output events the bridge would produce from these Kiro events. */
export function assemble(events: KiroEvent[], options: { thinking?: boolean; stopSequences?: string[] } = {}): OutputEvent[] {
  const assembler = new ResponseAssembler({ thinking: options.thinking ?? false, stopSequences: options.stopSequences });
  const out: OutputEvent[] = [];
  for (const event of events) {
    out.push(...assembler.push(event));
    if (assembler.done) return out;
  }
  return [...out, ...assembler.end()];
}

/** A JSON round trip: what a client sees of a value. */
export const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** Answers the Anthropic and Chat Completions writers are both checked on, streamed and built. */
export const CHAT_SCENARIOS: Record<string, () => OutputEvent[]> = {
  'plain text': () => assemble([kiroText('Hello'), kiroText(', wörld 👋'), kiroText(' "quoted" \\ back\nslash\r\n\u2028\t</script>\u0000')]),
  'thinking, text and two tools': () =>
    assemble(
      [
        ...[...'<thinking>\nLet me check "</thinking>" handling.</thinking>\n\nI will look.'].map(kiroText),
        kiroTool({ toolUseId: 'tooluse_AAAAAAAAAAAAAAAAAAAAAA', name: 'Read' }),
        kiroTool({ toolUseId: 'tooluse_AAAAAAAAAAAAAAAAAAAAAA', input: '{"file_path": "/a/b.ts", "limit": 2' }),
        kiroTool({ toolUseId: 'tooluse_AAAAAAAAAAAAAAAAAAAAAA', input: '0, "nested": {"x": [1, 2.5, -3e2, true, null, "\\u00e9\\n"]}}', stop: true }),
        kiroTool({ toolUseId: 'tooluse_BBBBBBBBBBBBBBBBBBBBBB', name: 'Glob', input: '{"pattern":"**/*.md"}', stop: true }),
        { kind: 'event', type: 'meteringEvent', json: { usage: 0.4 } },
      ],
      { thinking: true },
    ),
  'a tool with no input': () => assemble([kiroTool({ toolUseId: 't1', name: 'now', stop: true })]),
  'text after a tool': () => assemble([kiroTool({ toolUseId: 't1', name: 'a', input: '{}', stop: true }), kiroText('and then')]),
  'stop sequence': () => assemble([kiroText('one two'), kiroText(' thr'), kiroText('ee four')], { stopSequences: ['three'] }),
  'max_tokens with nothing emitted': () => assemble([{ kind: 'exception', type: 'ContentLengthExceededException', json: {} }]),
  'thinking only': () => assemble([kiroText('<thinking>never closed')], { thinking: true }),
  'native reasoning with a signature, a tool, and Kiro token counts': nativeReasoningEvents,
};
