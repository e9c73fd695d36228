import { connect } from "node:net";
import type { OpenTcpSocket, TcpSocket } from "./tcp-socket";

/** Node's net.Socket behind the TcpSocket web-stream shape (CLIs, Node tests). */
export const openTcpSocketNode: OpenTcpSocket = (host, port): TcpSocket => {
  const socket = connect({ host, port });
  socket.setNoDelay(true);

  const opened = new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("error", reject);
  });
  // Callers await `opened`; this only keeps an early refusal from counting as unhandled.
  opened.catch(() => {});

  let readableDone = false;
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      socket.on("data", (chunk: Buffer) => {
        if (readableDone) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        // Backpressure: stop reading from the kernel until the consumer pulls again.
        if ((controller.desiredSize ?? 1) <= 0) socket.pause();
      });
      const finish = () => {
        if (readableDone) return;
        readableDone = true;
        controller.close();
      };
      socket.on("end", finish);
      socket.on("close", finish);
      socket.on("error", (error) => {
        if (readableDone) return;
        readableDone = true;
        controller.error(error);
      });
    },
    pull() {
      socket.resume();
    },
    cancel() {
      readableDone = true;
      socket.destroy();
    },
  });

  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      return new Promise<void>((resolve, reject) => {
        socket.write(chunk, (error) => (error ? reject(error) : resolve()));
      });
    },
    close() {
      return new Promise<void>((resolve) => socket.end(() => resolve()));
    },
    abort() {
      socket.destroy();
    },
  });

  return {
    readable,
    writable,
    opened,
    close() {
      socket.destroy();
    },
  };
};
