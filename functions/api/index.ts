import { openTcpSocketWorkers } from "../../shared/documents/open-tcp-socket-workers";
import { loadWorkersPdfFonts } from "../../shared/reports/workers-pdf-fonts";
import { buildApiApp } from "./app";

// The clamd socket opener uses cloudflare:sockets and the PDF fonts are Data modules, which
// only the Worker entry may import (Node tests load app.ts).
export default buildApiApp({
  documents: { openSocket: openTcpSocketWorkers },
  reports: { pdfFonts: loadWorkersPdfFonts },
});
