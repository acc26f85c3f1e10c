// The system prompt text that asks for a JSON answer. Kiro has no field for an output format and
// cannot constrain its decoding, so the format travels as an instruction; the bridge then checks
// the answer itself (bridge/pipeline/structured-output) and asks once more if it does not match.
import type { ResponseFormat } from '../types';

/** Each schema's text: a request is converted more than once (per resend, per corrective retry). */
const schemaTexts = new WeakMap<object, string>();

function schemaText(schema: Record<string, unknown>): string {
  let text = schemaTexts.get(schema);
  if (text === undefined) {
    text = JSON.stringify(schema);
    schemaTexts.set(schema, text);
  }
  return text;
}

/** The instruction added to the system prompt for a request that wants JSON. */
export function responseFormatInstruction(format: ResponseFormat): string {
  const rules =
    'Reply with the JSON value alone: no text before or after it, no Markdown code fence, no comments. ' +
    'If you need tools first, call them as usual; the answer you give at the end must be the JSON.';
  if (!format.schema) return `Your answer must be a single valid JSON object. ${rules}`;
  const named = format.name ? ` named ${JSON.stringify(format.name)}` : '';
  const described = format.description ? ` (${format.description})` : '';
  return `Your answer must be a single JSON value that conforms to this JSON Schema${named}${described}:\n${schemaText(format.schema)}\n${rules}`;
}
