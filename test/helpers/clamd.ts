/**
 * A tiny clamd for tests: a loopback TCP server that speaks the INSTREAM command
 * (clamd(8): "zINSTREAM\0" / "nINSTREAM\n", 4-byte big-endian length-prefixed chunks, a
 * zero-length chunk to end) and PING, and knows exactly one signature: the EICAR test string,
 * reported as "Eicar-Test-Signature FOUND" the way ClamAV names it.
 *
 * Why not the real clamd: Debian's clamav-daemon installs, but it refuses to start without a
 * signature database, and freshclam needs the network to download one, which this machine
 * does not have. The protocol is small and fully specified, so the client is tested against
 * this server; a deployment points CLAMD_HOST/CLAMD_PORT at a real clamd.
 *
 * Like clamd, it closes the connection with "INSTREAM size limit exceeded. ERROR" once the
 * stream passes StreamMaxLength (clamd's default is 25 MB; tests set a small one).
 */
import { createServer, type Socket } from "node:net";

/** The 68-byte EICAR anti-malware test file (eicar.org): harmless, detected by every scanner. */
export const EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

export interface FakeClamdOptions {
  /** clamd's StreamMaxLength in bytes. */
  streamMaxLength?: number;
  /** "hang": accept the stream and never answer (timeout tests). "garble": answer nonsense. */
  behaviour?: "normal" | "hang" | "garble";
}

export interface FakeClamd {
  host: string;
  port: number;
  /** Every stream received in full, in order, exactly as reassembled from its chunks. */
  readonly streams: Uint8Array[];
  /** Chunk sizes of every stream received (framing checks). */
  readonly chunkSizes: number[][];
  stop(): Promise<void>;
}

export async function startFakeClamd(options: FakeClamdOptions = {}): Promise<FakeClamd> {
  const streamMaxLength = options.streamMaxLength ?? 25 * 1024 * 1024;
  const behaviour = options.behaviour ?? "normal";
  const streams: Uint8Array[] = [];
  const chunkSizes: number[][] = [];
  const sockets = new Set<Socket>();

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffer = Buffer.alloc(0);
    let state: "command" | "stream" | "done" = "command";
    let terminator = "\0";
    const chunks: Buffer[] = [];
    const sizes: number[] = [];
    let total = 0;

    const reply = (text: string, end = true) => {
      socket.write(text + terminator);
      if (end) {
        state = "done";
        socket.end();
      }
    };

    socket.on("data", (data: Buffer) => {
      if (state === "done") return;
      buffer = Buffer.concat([buffer, data]);
      if (state === "command") {
        const stop = buffer.findIndex((b) => b === 0 || b === 0x0a);
        if (stop < 0) return;
        const raw = buffer.subarray(0, stop).toString("latin1");
        buffer = buffer.subarray(stop + 1);
        terminator = raw.startsWith("z") ? "\0" : "\n";
        const command = raw.replace(/^[zn]/, "");
        if (command === "PING") return reply("PONG");
        if (command !== "INSTREAM") return reply("UNKNOWN COMMAND");
        state = "stream";
      }
      while (state === "stream" && buffer.length >= 4) {
        const length = buffer.readUInt32BE(0);
        if (length === 0) {
          buffer = buffer.subarray(4);
          const stream = new Uint8Array(Buffer.concat(chunks));
          streams.push(stream);
          chunkSizes.push(sizes);
          if (behaviour === "hang") {
            state = "done";
            return;
          }
          if (behaviour === "garble") return reply("WHAT IS THIS");
          const infected = Buffer.from(stream).includes(EICAR, 0, "latin1");
          return reply(infected ? "stream: Eicar-Test-Signature FOUND" : "stream: OK");
        }
        if (total + length > streamMaxLength) return reply("INSTREAM size limit exceeded. ERROR");
        if (buffer.length < 4 + length) return;
        chunks.push(Buffer.from(buffer.subarray(4, 4 + length)));
        sizes.push(length);
        total += length;
        buffer = buffer.subarray(4 + length);
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("fake clamd has no TCP address");

  return {
    host: "127.0.0.1",
    port: address.port,
    streams,
    chunkSizes,
    stop() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port with nothing listening (bound, read, released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}
