// Tool names Kiro accepts, and the reversible mapping for those it does not.
//
// Kiro rejects the whole request for an over-long tool name (MCP tools such as
// `mcp__some-server__some_long_tool_name…` easily pass 64 characters). The cap is what proxies
// observed, not a documented limit: some keep to 64, others to 63. We
// keep every name we send at 63 characters or fewer, so we are inside both, and names outside
// `[A-Za-z0-9_-]` (the Bedrock/Anthropic tool-name alphabet) are rewritten too, because an odd
// character costs nothing to map but a rejected request costs the whole turn.
//
// A rewritten name is `prefix + "_" + 8 hex of sha256(original)`: deterministic, so the same tool
// gets the same short name in history and in the current tool list, on every turn; the map
// restores originals in responses.
import { createHash } from 'node:crypto';

/** Longest tool name we send (the stricter of the two observed caps, see above). */
export const MAX_KIRO_TOOL_NAME_LENGTH = 63;

const HASH_HEX_CHARS = 8;
const ACCEPTED_NAME = /^[A-Za-z0-9_-]+$/;

export interface ToolNameMap {
  /** The name to send to Kiro for a client tool name. */
  toKiro(name: string): string;
  /** The client's name for a name Kiro answered with (unknown names come back unchanged). */
  fromKiro(name: string): string;
}

/** True when Kiro can take the name as it is. */
function isAcceptedToolName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_KIRO_TOOL_NAME_LENGTH && ACCEPTED_NAME.test(name);
}

/** The deterministic short form of a name Kiro cannot take. */
export function shortenToolName(name: string): string {
  const hash = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, HASH_HEX_CHARS);
  const prefix = name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, MAX_KIRO_TOOL_NAME_LENGTH - 1 - HASH_HEX_CHARS);
  return `${prefix}_${hash}`;
}

/** A name map that records every rewrite it makes, so responses can be mapped back. */
export class ToolNames implements ToolNameMap {
  private readonly original = new Map<string, string>();

  toKiro(name: string): string {
    if (isAcceptedToolName(name)) return name;
    const short = shortenToolName(name);
    this.original.set(short, name);
    return short;
  }

  fromKiro(name: string): string {
    return this.original.get(name) ?? name;
  }

  /** Every rewrite made so far, short name → original. */
  rewrites(): ReadonlyMap<string, string> {
    return this.original;
  }
}
