import { openTcpSocketWorkers } from "../../shared/documents/open-tcp-socket-workers";
import { buildApiApp } from "./app";

// The clamd socket opener uses cloudflare:sockets, which only the Worker entry may import
// (Node tests load app.ts).
export default buildApiApp({ documents: { openSocket: openTcpSocketWorkers } });
