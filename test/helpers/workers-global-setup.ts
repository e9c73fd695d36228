import type { TestProject } from "vitest/node";
import { startTestDatabase } from "./test-database";

/**
 * Runs in Node before the workerd test pool starts: one PGlite database with the real
 * migrations, reachable over TCP from inside workerd, exactly as Postgres is in prod.
 */
export default async function setup(project: TestProject) {
  const database = await startTestDatabase();
  project.provide("databaseUrl", database.url);
  project.provide("ownerDatabaseUrl", database.ownerUrl);
  return async () => {
    await database.stop();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
    ownerDatabaseUrl: string;
  }
}
