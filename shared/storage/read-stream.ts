/** Bounded reads of a byte stream: nothing here buffers more than the caller allows. */

export type BoundedRead = { readonly bytes: Uint8Array; readonly truncated: boolean };

/**
 * Up to `limit` bytes from the start of `stream`; the rest is cancelled, not downloaded.
 * `truncated` says whether more bytes were there.
 */
export async function readUpTo(stream: ReadableStream<Uint8Array>, limit: number): Promise<BoundedRead> {
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.length === 0) continue;
      if (size + value.length > limit) {
        parts.push(value.subarray(0, limit - size));
        size = limit;
        truncated = true;
        break;
      }
      parts.push(value);
      size += value.length;
    }
    if (!truncated && size === limit) {
      // Exactly at the limit: one more read tells a complete stream from a longer one.
      const next = await reader.read();
      truncated = !next.done && next.value.length > 0;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return { bytes, truncated };
}
