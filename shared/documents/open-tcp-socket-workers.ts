import { connect } from "cloudflare:sockets";
import type { OpenTcpSocket, TcpSocket } from "./tcp-socket";

/**
 * workerd's TCP sockets (Cloudflare Workers `connect()`); already the TcpSocket shape. A
 * socket belongs to the request that opened it: open one per scan, never share it.
 */
export const openTcpSocketWorkers: OpenTcpSocket = (host, port): TcpSocket => {
  const socket = connect({ hostname: host, port });
  // `closed` rejects when the connection fails; the scan reports that through `opened`.
  socket.closed.catch(() => {});
  return {
    readable: socket.readable,
    writable: socket.writable,
    opened: socket.opened,
    close: () => socket.close(),
  };
};
