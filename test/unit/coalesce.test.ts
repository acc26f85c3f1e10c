import { describe, expect, it } from 'vitest';
import { coalesceDeltas } from '../../src/bridge/pipeline/chat-pipeline';
import type { OutputEvent } from '../../src/kiro/types';

describe('coalesceDeltas', () => {
  it('joins adjacent deltas of the same block and keeps everything else in order', () => {
    const events: OutputEvent[] = [
      { type: 'thinking', text: 'a' },
      { type: 'thinking', text: 'b' },
      { type: 'text', text: 'Hel' },
      { type: 'text', text: 'lo' },
      { type: 'usage', credits: 1 },
      { type: 'text', text: '!' },
      { type: 'tool_start', id: 't1', name: 'ls' },
      { type: 'tool_delta', id: 't1', json: '{"p"' },
      { type: 'tool_delta', id: 't1', json: ':"."}' },
      { type: 'tool_end', id: 't1', input: { p: '.' } },
      { type: 'finish', reason: 'tool_use' },
    ];
    expect(coalesceDeltas(events)).toEqual([
      { type: 'thinking', text: 'ab' },
      { type: 'text', text: 'Hello' },
      { type: 'usage', credits: 1 },
      { type: 'text', text: '!' },
      { type: 'tool_start', id: 't1', name: 'ls' },
      { type: 'tool_delta', id: 't1', json: '{"p":"."}' },
      { type: 'tool_end', id: 't1', input: { p: '.' } },
      { type: 'finish', reason: 'tool_use' },
    ]);
  });

  it('does not join fragments of different tools', () => {
    const events: OutputEvent[] = [
      { type: 'tool_delta', id: 'a', json: '1' },
      { type: 'tool_delta', id: 'b', json: '2' },
    ];
    expect(coalesceDeltas(events)).toEqual(events);
  });
});
