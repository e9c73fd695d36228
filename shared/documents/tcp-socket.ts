/**
 * A TCP connection as a pair of web streams: the shape of a `cloudflare:sockets` Socket, so
 * code that speaks a TCP protocol (clamd) runs in workerd and in Node alike. Each runtime
 * has its own opener in its own file (open-tcp-socket-node.ts, open-tcp-socket-workers.ts)
 * so neither imports the other's built-ins.
 */
export interface TcpSocket {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  /** Resolves once connected; rejects when the host cannot be reached. */
  readonly opened: Promise<unknown>;
  /** Tears the connection down; safe to call more than once. */
  close(): Promise<void> | void;
}

export type OpenTcpSocket = (host: string, port: number) => TcpSocket;
