// The tool list of the current message: what the client offers, cleaned so Kiro takes it, plus a
// definition for every tool the conversation has already used: every toolUse and toolResult needs
// one, else TOOL_CONFIG_MISSING / "Improperly formed request" (docs/kiro-protocol.md#conversation-rules).
import type { KiroChatTriggerType, KiroToolSpecification } from './kiro-request';
import type { RepairLog } from './repairs';
import { normalizeToolSchema } from './schema';
import type { ToolNames } from './tool-names';
import type { ToolChoice, ToolDefinition } from '../types';

/**
 * Description cap. 10000 is the original kiro2api proxy's default, a proxy's choice rather than a
 * known upstream limit; counted in code points so no character is cut in half.
 */
export const MAX_TOOL_DESCRIPTION_LENGTH = 10_000;

/** Description of a tool the conversation used but the client no longer offers. */
export const SYNTHESIZED_TOOL_DESCRIPTION = 'A tool used earlier in this conversation that is no longer available. Do not call it.';

const SERVER_TOOL_NAMES = /^(?:web_?search|web_?fetch)$/i;
const SERVER_TOOL_TYPES = /^(?:web_search|web_fetch|code_execution)_\d+$/;

/**
 * Server tools (Anthropic's `web_search_20250305` and kin) run on the provider's side and come with
 * no input schema; Kiro has no such tool, and sending one as a plain tool gets the request rejected
 * (reported by users of other proxies, e.g. CLIProxyAPIPlus issue 72). A client-side function that
 * happens to be called `web_search` and has a real schema is an ordinary tool and is kept (the
 * original kiro2api drops those too; we do not need to).
 */
function isServerTool(tool: ToolDefinition): boolean {
  const type = (tool as { type?: unknown }).type;
  if (typeof type === 'string' && SERVER_TOOL_TYPES.test(type)) return true;
  if (!SERVER_TOOL_NAMES.test(tool.name ?? '')) return false;
  const schema = tool.inputSchema as { properties?: unknown } | undefined;
  const properties = schema && typeof schema.properties === 'object' && schema.properties !== null ? Object.keys(schema.properties) : [];
  return properties.length === 0;
}

/** Names whose past calls must be carried as text: offered server tools, and web_search unless offered as a real tool. */
export function serverToolNames(tools: readonly ToolDefinition[]): Set<string> {
  const names = new Set<string>(['web_search', 'websearch']);
  for (const tool of tools) {
    if (isServerTool(tool)) names.add(tool.name);
    else names.delete(tool.name);
  }
  return names;
}

export interface ToolPlan {
  specs: KiroToolSpecification[];
  trigger: KiroChatTriggerType;
  /** Added to the system prompt: what tool_choice asks that Kiro has no field for. */
  instruction?: string;
}

function truncateCodePoints(text: string, max: number): string | undefined {
  let count = 0;
  for (let i = 0; i < text.length;) {
    if (count === max) return text.slice(0, i);
    const code = text.codePointAt(i)!;
    i += code > 0xffff ? 2 : 1;
    count++;
  }
  return undefined;
}

function spec(tool: ToolDefinition, kiroName: string, repairs: RepairLog): KiroToolSpecification {
  let description = typeof tool.description === 'string' ? tool.description : '';
  if (description.trim() === '') {
    // Kiro rejects empty descriptions ("Invalid tool use format."); the tool's own name is the
    // most informative thing we have (one proxy does the same and reports it accepted).
    description = tool.name;
    repairs.add('tool-description-filled', 'empty description replaced by the tool name', tool.name);
  }
  const truncated = truncateCodePoints(description, MAX_TOOL_DESCRIPTION_LENGTH);
  if (truncated !== undefined) {
    repairs.add('tool-description-truncated', `description cut to ${MAX_TOOL_DESCRIPTION_LENGTH} characters`, tool.name);
    description = truncated;
  }
  const { schema, changes, routine } = normalizeToolSchema(tool.inputSchema);
  // One entry per distinct list of changes, so twenty tools that only lost `$schema` read as one line.
  if (changes.length > 0) repairs.add(routine ? 'tool-schema-cleaned' : 'tool-schema-normalized', changes.join(', '), tool.name);
  return { toolSpecification: { name: kiroName, description, inputSchema: { json: schema } } };
}

function synthesized(kiroName: string): KiroToolSpecification {
  return {
    toolSpecification: {
      name: kiroName,
      description: SYNTHESIZED_TOOL_DESCRIPTION,
      inputSchema: { json: { type: 'object', properties: {}, required: [] } },
    },
  };
}

/**
 * Builds the current message's tools. `usedNames` are the client names of every tool called in the
 * conversation (after the turns were repaired), in order of first use.
 */
export function planTools(
  tools: readonly ToolDefinition[],
  toolChoice: ToolChoice | undefined,
  usedNames: readonly string[],
  names: ToolNames,
  repairs: RepairLog,
): ToolPlan {
  const offered = new Map<string, { tool: ToolDefinition; spec: KiroToolSpecification }>();
  for (const tool of tools) {
    if (isServerTool(tool)) {
      repairs.add('server-tool-dropped', 'server tool not sent to Kiro (it has no server-side tools)', tool.name);
      continue;
    }
    if (typeof tool.name !== 'string' || tool.name === '') {
      repairs.add('nameless-tool-dropped', 'a tool with no name was not sent');
      continue;
    }
    const kiroName = names.toKiro(tool.name);
    if (offered.has(kiroName)) {
      repairs.add('duplicate-tool-definition', 'tool defined more than once; the first definition was sent', tool.name);
      continue;
    }
    offered.set(kiroName, { tool, spec: spec(tool, kiroName, repairs) });
  }

  const used = [...new Set(usedNames.map((n) => names.toKiro(n)))];
  let specs = [...offered.values()].map((o) => o.spec);
  let instruction: string | undefined;
  let trigger: KiroChatTriggerType = 'MANUAL';

  if (toolChoice?.type === 'none') {
    // Kiro has no tool_choice. Tools the conversation already used must stay defined or the request
    // is rejected, so we send only those (with their real definitions) and tell the model not to
    // call any; the rest are left out so the model cannot pick them.
    const kept = specs.filter((s) => used.includes(s.toolSpecification.name));
    if (offered.size > 0) {
      repairs.add(
        'tool-choice-none',
        kept.length > 0
          ? `tool_choice none: ${offered.size - kept.length} tools not sent; ${kept.length} used earlier kept defined, with an instruction not to call tools`
          : `tool_choice none: ${offered.size} tools not sent`,
      );
    }
    specs = kept;
  } else if (toolChoice?.type === 'any' || toolChoice?.type === 'tool') {
    if (toolChoice.type === 'tool' && !offered.has(names.toKiro(toolChoice.name))) {
      repairs.add('tool-choice-unknown-tool', `tool_choice names ${JSON.stringify(toolChoice.name)}, which is not among the tools sent; ignored`);
    } else if (offered.size === 0) {
      repairs.add('tool-choice-unknown-tool', 'tool_choice any with no tools sent; ignored');
    } else {
      // Forced tool use is chatTriggerType AUTO (as in the original kiro2api); an instruction says the rest.
      trigger = 'AUTO';
      instruction =
        toolChoice.type === 'tool'
          ? `You must call the tool "${names.toKiro(toolChoice.name)}" in this response.`
          : 'You must call at least one of the available tools in this response.';
      repairs.add('tool-choice-required', `tool_choice ${toolChoice.type} sent as chatTriggerType AUTO plus an instruction in the system prompt`);
    }
  }

  const defined = new Set(specs.map((s) => s.toolSpecification.name));
  for (const kiroName of used) {
    if (defined.has(kiroName)) continue;
    defined.add(kiroName);
    const real = offered.get(kiroName);
    if (real) {
      specs.push(real.spec);
      continue;
    }
    specs.push(synthesized(kiroName));
    repairs.add('tool-definition-synthesized', 'used earlier but not offered now; a stub definition was sent', names.fromKiro(kiroName));
  }
  if (toolChoice?.type === 'none' && specs.length > 0) instruction = 'Do not call any tools in this response; answer with text only.';
  return { specs, trigger, ...(instruction ? { instruction } : {}) };
}
