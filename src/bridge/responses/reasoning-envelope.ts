// What a Responses `reasoning` item carries in `encrypted_content` when the client asks for it
// (`include: ["reasoning.encrypted_content"]`, as Codex does with `store: false`). OpenAI puts its
// encrypted reasoning there so a stateless client can send it back; Codex sends reasoning items
// back with that field and the summary only, never their reasoning text. So the bridge puts in
// it everything it needs to give Kiro the reasoning back unchanged: the text, Kiro's signature,
// or the data of reasoning Kiro withheld.
//
// It is a labelled envelope, not encryption: `kiro-bridge.reasoning.v1.` + base64url JSON. The
// text is the user's own model output, and a client that changes it only gets Kiro's refusal of
// the signature (which the bridge answers by sending the reasoning as plain text).

export const ENVELOPE_PREFIX = 'kiro-bridge.reasoning.v1.';

interface ReasoningEnvelope {
  /** The reasoning text (absent for withheld reasoning). */
  text?: string;
  /** Kiro's signature of the text. */
  signature?: string;
  /** Data Kiro sent in place of reasoning it withheld (redactedContent). */
  redacted?: string;
}

/** `envelope` sealed (its fields left undefined are left out, as JSON.stringify does). */
export function sealReasoning(envelope: ReasoningEnvelope): string {
  return ENVELOPE_PREFIX + Buffer.from(JSON.stringify(envelope), 'utf8').toString('base64url');
}

/** The envelope inside `encrypted_content`, or undefined when it is not one of ours (OpenAI's). */
export function openReasoning(value: unknown): ReasoningEnvelope | undefined {
  if (typeof value !== 'string' || !value.startsWith(ENVELOPE_PREFIX)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value.slice(ENVELOPE_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const o = parsed as Record<string, unknown>;
  const out: ReasoningEnvelope = {};
  if (typeof o.text === 'string') out.text = o.text;
  if (typeof o.signature === 'string' && o.signature) out.signature = o.signature;
  if (typeof o.redacted === 'string' && o.redacted) out.redacted = o.redacted;
  return out.text !== undefined || out.redacted !== undefined ? out : undefined;
}
