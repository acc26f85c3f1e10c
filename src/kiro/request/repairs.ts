// What the converter changed to make a request acceptable to Kiro. Users see these in the traffic
// view (users of other proxies keep asking which fix was applied to which message), so each rule
// has a stable id and a plain-words detail naming the messages it touched.

export type RepairRule =
  // conversation shape
  | 'merged-turns'
  | 'leading-assistant'
  | 'assistant-prefill'
  | 'empty-trailing-assistant'
  | 'user-content-placeholder'
  | 'assistant-content-placeholder'
  | 'misplaced-block'
  | 'assistant-image-dropped'
  | 'empty-image-dropped'
  | 'thinking-dropped'
  | 'redacted-thinking-dropped'
  | 'reasoning-as-text'
  // tool calls and results
  | 'orphan-tool-result'
  | 'duplicate-tool-result'
  | 'unanswered-tool-use'
  | 'duplicate-tool-use-id'
  | 'missing-tool-use-id'
  | 'tool-use-input-wrapped'
  | 'empty-tool-result'
  | 'tool-result-images'
  // tool definitions
  | 'tool-definition-synthesized'
  | 'tool-description-filled'
  | 'tool-description-truncated'
  | 'tool-schema-cleaned'
  | 'tool-schema-normalized'
  | 'tool-name-shortened'
  | 'duplicate-tool-definition'
  | 'nameless-tool-dropped'
  | 'server-tool-dropped'
  | 'server-tool-call-as-text'
  | 'tool-choice-none'
  | 'tool-choice-required'
  | 'tool-choice-unknown-tool'
  // output format
  | 'response-format-in-prompt';

export interface Repair {
  rule: RepairRule;
  detail: string;
  /**
   * True for changes nearly every agentic request needs and that alter nothing the model is told
   * (a placeholder for a tool-only turn, `$schema` removed): the traffic view can show them quietly
   * and keep its "repaired" flag for the changes worth a look.
   */
  routine: boolean;
}

const ROUTINE_RULES: ReadonlySet<RepairRule> = new Set<RepairRule>([
  'user-content-placeholder',
  'assistant-content-placeholder',
  'empty-tool-result',
  'tool-result-images',
  'tool-schema-cleaned',
  'tool-name-shortened',
  'thinking-dropped',
  'tool-choice-required',
  'response-format-in-prompt',
]);

/** `rule: detail`, for the traffic record's string list. */
export function formatRepair(repair: Repair): string {
  return `${repair.rule}: ${repair.detail}`;
}

const MAX_PLACES = 12;

interface Group {
  what: string;
  /** Client message indexes, or names (of tools) for changes that are not about a message. */
  places: (number | string)[];
}

/**
 * Collects repairs as they happen and reports one entry per rule, grouping identical changes and
 * listing the client message indexes ("messages 3, 5, 7") or tools they touched.
 */
export class RepairLog {
  private readonly rules = new Map<RepairRule, Group[]>();

  /** Records a change at a client message index, or at a named thing (a tool), if any. */
  add(rule: RepairRule, what: string, place?: number | string): void {
    let groups = this.rules.get(rule);
    if (!groups) this.rules.set(rule, (groups = []));
    let group = groups.find((g) => g.what === what);
    if (!group) groups.push((group = { what, places: [] }));
    if (place !== undefined && !group.places.includes(place)) group.places.push(place);
  }

  list(): Repair[] {
    return [...this.rules].map(([rule, groups]) => ({ rule, detail: groups.map(describe).join('; '), routine: ROUTINE_RULES.has(rule) }));
  }
}

function describe(group: Group): string {
  if (group.places.length === 0) return group.what;
  const shown = group.places.slice(0, MAX_PLACES).join(', ');
  const more = group.places.length > MAX_PLACES ? ` and ${group.places.length - MAX_PLACES} more` : '';
  if (typeof group.places[0] === 'string') return `${shown}${more}: ${group.what}`;
  return `${group.places.length === 1 ? 'message' : 'messages'} ${shown}${more}: ${group.what}`;
}
