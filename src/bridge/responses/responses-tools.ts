// The `tools` of a Responses request → Kiro tool definitions. Function tools pass through; custom
// (free-form) tools take their text in one string argument; a `namespace` tool (a named group of
// function tools, such as Codex's `multi_agent_v1` or one of its MCP servers) is flattened into
// one Kiro tool per member, because Kiro has no groups. Codex dispatches a call by the pair
// (`namespace`, `name`) on the function_call item — a flat name alone is "unsupported call" — so
// the map kept here turns each flattened name back into that pair on the way out. Tools OpenAI
// runs on its own servers are dropped with a note.
import type { ToolDefinition } from '../../kiro/types';
import { checkUniqueNames, fail, functionTool, isObject, list, present, str, typeName, unsupported, type Json } from '../openai/openai-common';

/** The argument a custom tool's free-form input travels in (Kiro tools take JSON objects). */
export const CUSTOM_TOOL_INPUT = 'input';

/** Hosted tools Kiro cannot run: dropped from `tools` with a note. */
const HOSTED_TOOL =
  /^(web_search|web_search_preview|file_search|code_interpreter|image_generation|computer_use_preview|computer|mcp|local_shell|shell|apply_patch)(_\d{4}_\d{2}_\d{2})?$/;

/** A member of a namespace tool, as the client declared it. */
export interface NamespacedName {
  namespace: string;
  name: string;
}

interface ResponsesTools {
  tools: ToolDefinition[];
  /** Names of custom (free-form) tools: their calls go back as `custom_tool_call` items. */
  custom: Set<string>;
  /** Flattened name → the namespace member it stands for. */
  namespaced: Map<string, NamespacedName>;
}

/**
 * The flat name of a namespace member: Codex's own spelling (`multi_agent_v1__spawn_agent`,
 * `mcp__github__get_me`), the namespace's trailing and the name's leading underscores trimmed
 * around the `__`. Deterministic, so a call replayed in `input` gets the name it was declared as.
 * Names longer than Kiro takes are shortened later, reversibly, with every other tool name.
 */
export function flatToolName(namespace: string, name: string): string {
  return `${namespace.replace(/_+$/, '')}__${name.replace(/^_+/, '')}`;
}

function customTool(tool: Json, path: string): ToolDefinition {
  const name = str(tool, 'name', path, true);
  if (!name) fail(`${path}.name`, 'must not be empty');
  let description = str(tool, 'description', path, false) ?? '';
  const format = tool.format;
  let inputDescription = 'The free-form input for the tool.';
  if (isObject(format) && format.type === 'grammar') {
    const syntax = typeof format.syntax === 'string' ? format.syntax : 'grammar';
    const definition = typeof format.definition === 'string' ? format.definition : '';
    inputDescription = `The free-form input for the tool, which must follow this ${syntax} grammar.`;
    if (definition) description += `${description ? '\n\n' : ''}The input must follow this ${syntax} grammar:\n${definition}`;
  }
  return {
    name,
    description,
    inputSchema: { type: 'object', properties: { [CUSTOM_TOOL_INPUT]: { type: 'string', description: inputDescription } }, required: [CUSTOM_TOOL_INPUT] },
  };
}

/** One Kiro tool per member; each description says which group it belongs to. */
function namespaceMembers(tool: Json, path: string, out: ResponsesTools, paths: string[]): void {
  const namespace = str(tool, 'name', path, true);
  if (!namespace) fail(`${path}.name`, 'must not be empty');
  const about = str(tool, 'description', path, false)?.trim();
  const group = about ? `the ${namespace} tool group (${about})` : `the ${namespace} tool group`;
  list(tool.tools, `${path}.tools`).forEach((member, j) => {
    const at = `${path}.tools[${j}]`;
    if (!isObject(member)) fail(at, `expected an object, got ${typeName(member)}`);
    if (member.type !== 'function') unsupported(`${at}.type`, `a namespace holds function tools; got ${JSON.stringify(member.type)}`);
    const defined = functionTool(member, at);
    const flat = flatToolName(namespace, defined.name);
    out.namespaced.set(flat, { namespace, name: defined.name });
    out.tools.push({ ...defined, name: flat, description: `${defined.description}${defined.description ? '\n\n' : ''}Part of ${group}.` });
    paths.push(`${at}.name`);
  });
}

/** Validates and maps a Responses `tools` list; what Kiro cannot take is dropped with a note. */
export function parseResponsesTools(value: unknown, notes: string[]): ResponsesTools {
  const out: ResponsesTools = { tools: [], custom: new Set(), namespaced: new Map() };
  if (!present(value)) return out;
  const paths: string[] = [];
  list(value, 'tools').forEach((tool, i) => {
    const path = `tools[${i}]`;
    if (!isObject(tool)) fail(path, `expected an object, got ${typeName(tool)}`);
    const type = tool.type;
    if (type === 'function') {
      out.tools.push(functionTool(tool, path));
      paths.push(`${path}.name`);
    } else if (type === 'custom') {
      const defined = customTool(tool, path);
      out.custom.add(defined.name);
      out.tools.push(defined);
      paths.push(`${path}.name`);
    } else if (type === 'namespace') {
      namespaceMembers(tool, path, out, paths);
    } else if (type === 'tool_search') {
      // Codex offers it only for models whose catalogue entry says so; it loads deferred tools
      // into later requests, which needs the hosted search results Kiro cannot produce.
      notes.push(`${path}: dropped the "tool_search" tool (Kiro cannot load deferred tools; tools held back for it are not offered)`);
    } else if (typeof type === 'string' && HOSTED_TOOL.test(type)) {
      notes.push(`${path}: dropped the hosted tool ${JSON.stringify(type)} (Kiro cannot run OpenAI's hosted tools)`);
    } else {
      unsupported(`${path}.type`, `expected "function", "custom" or "namespace", got ${JSON.stringify(type)}`);
    }
  });
  checkUniqueNames(out.tools, (i) => paths[i]!);
  return out;
}
