// The traffic record's `repaired` flag: raised by notes and by converter repairs worth a look, not
// by the routine ones nearly every agentic request needs (all are still listed).
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/common/redact';
import type { RequestRecord } from '../../src/traffic/traffic';
import { TrafficRecorder } from '../../src/bridge/traffic';
import type { Repair } from '../../src/kiro/request/repairs';

function trace() {
  let last: RequestRecord | undefined;
  const recorder = new TrafficRecorder({
    sink: { update: (r) => (last = structuredClone(r) as RequestRecord) },
    redactor: new Redactor(),
    captureMode: () => 'off',
  });
  const t = recorder.begin({ method: 'POST', url: '/v1/messages', headers: {} } as IncomingMessage, 'anthropic', 'req_test');
  return { t, record: () => last! };
}

const routine: Repair = { rule: 'assistant-content-placeholder', detail: 'message 3: tool-only turn got a placeholder', routine: true };
const notable: Repair = { rule: 'merged-turns', detail: 'messages 2 and 3 were merged', routine: false };

describe('RequestTrace.addRepairs', () => {
  it('lists routine repairs without raising the flag', () => {
    const { t, record } = trace();
    t.addRepairs([routine]);
    t.update({});
    expect(record().repairs).toEqual(['assistant-content-placeholder: message 3: tool-only turn got a placeholder']);
    expect(record().flags.repaired).toBe(false);
  });

  it('raises it for a repair worth a look, and for plain notes', () => {
    const first = trace();
    first.t.addRepairs([routine, notable]);
    first.t.update({});
    expect(first.record().flags.repaired).toBe(true);
    expect(first.record().repairs).toHaveLength(2);

    const second = trace();
    second.t.addRepairs(['dropped server tool "web_search"']);
    second.t.update({});
    expect(second.record().flags.repaired).toBe(true);
  });
});
