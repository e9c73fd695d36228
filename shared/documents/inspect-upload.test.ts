import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closedPort, EICAR, type FakeClamd, startFakeClamd } from "../../test/helpers/clamd";
import { err, ok } from "../core/result";
import { MEDIA_TYPE_SNIFF_BYTES } from "./detect-media-type";
import { type Inspection, inspectUpload, type UploadExpectations } from "./inspect-upload";
import { openTcpSocketNode } from "./open-tcp-socket-node";
import { createClamdScanner, type VirusScanner } from "./virus-scanner";

const ascii = (s: string) => new TextEncoder().encode(s);
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const PDF = (size: number) => {
  const bytes = new Uint8Array(size).fill(0x20);
  bytes.set(ascii("%PDF-1.7\n"));
  bytes.set(ascii("%%EOF\n"), size - 6);
  return bytes;
};

/** A stream of `bytes` in chunks of `chunk` bytes, optionally failing after `failAfter` chunks. */
function streamOf(bytes: Uint8Array, chunk = 1000, failAfter?: number): ReadableStream<Uint8Array> {
  let at = 0;
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (failAfter !== undefined && sent >= failAfter)
        return controller.error(new Error("connection reset"));
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
      sent += 1;
    },
  });
}

const expects = (overrides: Partial<UploadExpectations> = {}): UploadExpectations => ({
  declaredType: null,
  declaredSize: null,
  maxBytes: 1_000_000,
  scanner: null,
  ...overrides,
});

let clamd: FakeClamd;
let scanner: VirusScanner;
beforeAll(async () => {
  clamd = await startFakeClamd();
  scanner = createClamdScanner({ host: clamd.host, port: clamd.port }, openTcpSocketNode);
});
afterAll(() => clamd.stop());

describe("inspectUpload", () => {
  it.each([1, 7, 4095, 4096, 4097, 65_536])(
    "hashes and types a PDF read in chunks of %i bytes",
    async (chunk) => {
      const bytes = PDF(20_000);
      const result = await inspectUpload(
        { stream: streamOf(bytes, chunk), size: bytes.length, storedType: "application/pdf" },
        expects({ declaredType: "application/pdf", declaredSize: bytes.length }),
      );
      expect(result).toEqual({
        outcome: "accepted",
        mediaType: "application/pdf",
        sizeBytes: bytes.length,
        sha256: sha256(bytes),
        scan: "not_scanned",
      } satisfies Inspection);
    },
  );

  it("accepts a file shorter than the sniff window, and one of unknown size", async () => {
    const note = ascii("BP 120/80\n");
    expect(await inspectUpload({ stream: streamOf(note, 3), size: null }, expects())).toMatchObject({
      outcome: "accepted",
      mediaType: "text/plain",
      sizeBytes: note.length,
    });
  });

  it.each([
    ["empty, size known", new Uint8Array(0), 0, {}, "empty_file"],
    ["empty, size unknown", new Uint8Array(0), null, {}, "empty_file"],
    ["over the limit, size known", PDF(2000), 2000, { maxBytes: 1999 }, "too_large"],
    ["over the limit, size unknown", PDF(MEDIA_TYPE_SNIFF_BYTES * 3), null, { maxBytes: 5000 }, "too_large"],
    ["other than declared", PDF(2000), 2000, { declaredSize: 2001 }, "size_mismatch"],
    ["longer than storage said", PDF(6000), 5000, {}, "size_mismatch"],
    ["shorter than storage said", PDF(6000), 7000, {}, "size_mismatch"],
    ["a type off the allowlist", new Uint8Array([0x50, 0x4b, 3, 4, 0, 0]), 6, {}, "type_not_allowed"],
    [
      "HTML as text",
      ascii("<html><body>x</body></html>"),
      27,
      { declaredType: "text/plain" },
      "type_not_allowed",
    ],
    ["a PDF declared as PNG", PDF(100), 100, { declaredType: "image/png" }, "type_mismatch"],
  ] as const)("refuses %s", async (_label, bytes, size, overrides, reason) => {
    const result = await inspectUpload({ stream: streamOf(bytes, 512), size }, expects(overrides));
    expect(result).toMatchObject({ outcome: "refused", reason, sha256: null, scanned: false });
  });

  it("refuses an object stored with a type other than its content, and accepts an alias of it", async () => {
    const bytes = PDF(100);
    for (const storedType of ["text/html", "application/octet-stream", null]) {
      const result = await inspectUpload({ stream: streamOf(bytes), size: 100, storedType }, expects());
      expect(result, String(storedType)).toMatchObject({
        outcome: "refused",
        reason: "stored_type_mismatch",
      });
    }
    const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]);
    expect(
      await inspectUpload({ stream: streamOf(jpeg), size: jpeg.length, storedType: "image/jpg" }, expects()),
    ).toMatchObject({ outcome: "accepted", mediaType: "image/jpeg" });
  });

  it("refuses text that turns binary after the sniff window", async () => {
    const bytes = new Uint8Array([...ascii("a".repeat(MEDIA_TYPE_SNIFF_BYTES + 10)), 0x00, 0x01]);
    const result = await inspectUpload({ stream: streamOf(bytes, 100), size: bytes.length }, expects());
    expect(result).toMatchObject({ outcome: "refused", reason: "not_plain_text", mediaType: "text/plain" });
  });

  it("reports a source that breaks mid-stream, with or without a scanner", async () => {
    const bytes = PDF(50_000);
    for (const scan of [null, scanner]) {
      const result = await inspectUpload(
        { stream: streamOf(bytes, 4096, 3), size: bytes.length },
        expects({ scanner: scan }),
      );
      expect(result).toEqual({ outcome: "source_failed" });
    }
  });

  it("scans the exact bytes with clamd: clean, and infected with the hash of what was scanned", async () => {
    const bytes = PDF(100_000);
    const before = clamd.streams.length;
    expect(
      await inspectUpload({ stream: streamOf(bytes, 3000), size: bytes.length }, expects({ scanner })),
    ).toMatchObject({
      outcome: "accepted",
      scan: "clean",
      sha256: sha256(bytes),
    });
    expect(clamd.streams[before]).toEqual(bytes);
    const eicar = ascii(`${EICAR}\n`);
    expect(
      await inspectUpload({ stream: streamOf(eicar, 10), size: eicar.length }, expects({ scanner })),
    ).toEqual({
      outcome: "refused",
      reason: "infected",
      mediaType: "text/plain",
      sizeBytes: eicar.length,
      sha256: sha256(eicar),
      scanned: true,
    });
  });

  it("fails closed when clamd cannot be reached or gives no verdict", async () => {
    const down = createClamdScanner({ host: "127.0.0.1", port: await closedPort() }, openTcpSocketNode);
    expect(
      await inspectUpload({ stream: streamOf(PDF(100)), size: 100 }, expects({ scanner: down })),
    ).toEqual({
      outcome: "scan_failed",
      failure: "unreachable",
    });
    const lying: VirusScanner = { scan: async () => ok({ clean: true }) };
    expect(
      await inspectUpload({ stream: streamOf(PDF(10_000)), size: 10_000 }, expects({ scanner: lying })),
    ).toEqual({
      outcome: "scan_failed",
      failure: "protocol",
    });
    const timeout: VirusScanner = {
      scan: async () => err({ code: "unavailable", reason: "timeout", message: "x" }),
    };
    expect(
      await inspectUpload({ stream: streamOf(PDF(100)), size: 100 }, expects({ scanner: timeout })),
    ).toEqual({
      outcome: "scan_failed",
      failure: "timeout",
    });
  });

  it("a refusal found mid-stream wins over the scanner's failure it causes", async () => {
    const bytes = PDF(MEDIA_TYPE_SNIFF_BYTES * 4);
    const result = await inspectUpload(
      { stream: streamOf(bytes, 1000), size: null },
      expects({ maxBytes: 6000, scanner }),
    );
    expect(result).toMatchObject({ outcome: "refused", reason: "too_large" });
  });
});
