/**
 * The upload gate inside workerd, where the api function runs it: node:crypto's streaming
 * SHA-256 (nodejs_compat) and the streaming text check must behave as in Node.
 */
import { describe, expect, it } from "vitest";
import { inspectUpload } from "./inspect-upload";

const ascii = (s: string) => new TextEncoder().encode(s);

function streamOf(bytes: Uint8Array, chunk: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
}

async function hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

const expectations = { declaredType: null, declaredSize: null, maxBytes: 10_000_000, scanner: null };

describe("inspectUpload (workerd)", () => {
  it("hashes a PDF streamed in odd chunks exactly as WebCrypto hashes it whole", async () => {
    const bytes = new Uint8Array(300_000).fill(0x41);
    bytes.set(ascii("%PDF-1.7\n"));
    bytes.set(ascii("\n%%EOF\n"), bytes.length - 7);
    const result = await inspectUpload({ stream: streamOf(bytes, 4099), size: bytes.length }, expectations);
    expect(result).toEqual({
      outcome: "accepted",
      mediaType: "application/pdf",
      sizeBytes: bytes.length,
      sha256: await hex(bytes),
      scan: "not_scanned",
    });
  });

  it("checks text across chunk boundaries: multi-byte characters pass, late binary does not", async () => {
    const note = ascii("Blutdruck 120/80 – Müdigkeit, 😊 besser. ".repeat(300));
    expect(await inspectUpload({ stream: streamOf(note, 5), size: note.length }, expectations)).toMatchObject(
      {
        outcome: "accepted",
        mediaType: "text/plain",
      },
    );
    const binary = new Uint8Array([...note, 0x00, 0xff]);
    expect(
      await inspectUpload({ stream: streamOf(binary, 5), size: binary.length }, expectations),
    ).toMatchObject({
      outcome: "refused",
      reason: "not_plain_text",
    });
  });
});
