import { existsSync } from "node:fs";

/** Load KEY=VALUE lines from an env file into process.env (values already set win). */
export function loadEnvFile(path: string | undefined): void {
  if (!path) return;
  if (!existsSync(path)) throw new UsageError(`env file ${path} does not exist`);
  process.loadEnvFile(path);
}

/** Wrong flags or missing settings: exit code 2, distinct from "the check failed" (1). */
export class UsageError extends Error {
  override name = "UsageError";
}

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new UsageError(`${name} is not set`);
  return value;
}

/** Exit codes: 0 ok, 1 the operation found a problem, 2 usage or configuration error. */
export async function runCli(main: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await main();
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`error: ${error.message}`);
      process.exitCode = 2;
      return;
    }
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
