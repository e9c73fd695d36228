/**
 * A throwaway stand-in for tests: its own temporary data folder, a random service key and
 * the documents bucket. Tests never share state or hard-code credentials.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SupabaseStorageStandinOptions, startSupabaseStorageStandin } from "./server";

export const TEST_BUCKET = "medchr-documents";

export interface TestStorageStandin {
  url: string;
  serviceRoleKey: string;
  bucket: string;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startTestStorageStandin(
  options: Partial<Omit<SupabaseStorageStandinOptions, "dataDir">> = {},
): Promise<TestStorageStandin> {
  const dataDir = await mkdtemp(join(tmpdir(), "medchr-storage-"));
  const serviceRoleKey = options.serviceRoleKey ?? randomBytes(24).toString("base64url");
  const standin = await startSupabaseStorageStandin({
    buckets: [TEST_BUCKET],
    ...options,
    dataDir,
    serviceRoleKey,
  });
  return {
    url: standin.url,
    serviceRoleKey,
    bucket: TEST_BUCKET,
    dataDir,
    async stop() {
      await standin.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
