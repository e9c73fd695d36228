import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface LocalPostgres {
  /** postgres:// URL; the user is the login role, as in production. */
  url: string;
  /** URL for operator work (migrations, audit verification). */
  ownerUrl: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Postgres for the local stack and tests: PGlite (the real Postgres engine compiled to
 * WebAssembly, with pgvector) behind a TCP socket, so the production `postgres` client
 * code path runs unchanged. Every socket connection is the superuser whatever user it
 * names; request code is confined by SET LOCAL ROLE medchr_app, as in production.
 */
export async function startLocalPostgres(
  options: { dataDir?: string; port?: number } = {},
): Promise<LocalPostgres> {
  const db = await PGlite.create({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    extensions: { vector },
  });
  const server = new PGLiteSocketServer({
    db,
    host: "127.0.0.1",
    port: options.port ?? 0,
    maxConnections: 100,
  });
  await server.start();
  // getServerConn() answers "host:port" with the port the OS picked.
  const port = Number(server.getServerConn().split(":").pop());
  if (!port) throw new Error("could not determine the PGlite socket port");
  return {
    url: `postgres://medchr_login@127.0.0.1:${port}/postgres`,
    ownerUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
