/**
 * Reads a response body to text, keeping at most `limit` bytes but draining the rest (so the
 * connection can be reused). Error bodies are bounded: an upstream may answer with anything.
 */
export async function readLimited(body: AsyncIterable<Uint8Array>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < limit) {
      const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      chunks.push(size + buffer.length > limit ? buffer.subarray(0, limit - size) : buffer);
    }
    size += chunk.byteLength;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Reads a response body as readLimited does and parses it as JSON: undefined when the body is
 * empty or not JSON (the caller decides from the status what a missing body means).
 */
export async function readJsonLimited(body: AsyncIterable<Uint8Array>, limit: number): Promise<unknown> {
  const text = await readLimited(body, limit);
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
