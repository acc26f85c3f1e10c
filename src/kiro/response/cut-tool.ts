// What the bridge says when Kiro cuts a tool call's input short. Kiro's output limit cuts large
// tool inputs (a big Write or Edit): the stream stops inside the call, the call's `stop` frame
// comes with JSON that does not parse, the input arrives empty, or a
// ContentLengthExceededException lands mid-call. Running such a call would write a truncated file;
// handing it over as a tool_use the client cannot run makes the agent retry the same large call
// ("Write failed", again and again); an error event makes the client retry the whole request,
// which Kiro cuts the same way.
//
// So the call is dropped (never sent), and the answer ends the way an output cut ends: with a
// note in the assistant's own words saying what happened and how to go on, and stop reason
// `max_tokens` (`tool_use` when complete calls came before it, so the client runs those). Claude
// Code answers `max_tokens` by continuing on its own with "Output token limit hit. Resume
// directly … Break remaining work into smaller pieces." (after first retrying once with a larger
// max_tokens, which Kiro does not read); the note beside it tells the model which call failed
// and how to split it. Other agents see `finish_reason: "length"` or an incomplete response with
// the same note, and the user sees it too.

/** What a note needs to know about the call that was cut. */
export interface CutToolCall {
  /** The tool's name as the client knows it. */
  name: string;
  id: string;
  /** The input text received before the cut. */
  input: string;
}

/** Characters of the cut input quoted back, enough to name the file it was about. */
const INPUT_HEAD = 120;

/** The start of the input on one line, without backticks (it is quoted in them). */
function head(input: string): string {
  const text = input.trim().replace(/\s+/g, ' ').replace(/`/g, "'");
  return text.length > INPUT_HEAD ? `${text.slice(0, INPUT_HEAD)}…` : text;
}

/** The text the answer ends with: for the model (it is in its own turn) and for the user. */
export function cutToolNotice(call: CutToolCall): string {
  const began = call.input.trim() ? ` Its input began: \`${head(call.input)}\`.` : '';
  return (
    `[Kiro Bridge: the ${call.name} tool call was cut off by Kiro's output limit after ${call.input.length} characters of input, so it was not run.${began} ` +
    `Kiro cannot stream a tool input this large in one response. Do the same work in smaller pieces: write a large file in parts ` +
    `(create it with the first part, then add each further part with its own call), and split a large edit into several smaller edits.]`
  );
}

/** The traffic record's note. */
export function cutToolNote(call: CutToolCall, why: string): string {
  return `tool call ${call.name} (${call.id}) cut off by Kiro after ${call.input.length} characters of input (${why}): not sent to the client; the answer ends with a note asking for smaller pieces`;
}
