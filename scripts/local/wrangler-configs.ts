import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { experimental_readRawConfig } from "wrangler";
import { FUNCTION_NAMES, type FunctionName } from "../../shared/config/functions";
import { REPO_ROOT } from "../lib/migrations-dir";

/** Keys a Wrangler environment inherits from the top level (Wrangler's own rules). */
const INHERITED = ["compatibility_date", "compatibility_flags", "main"] as const;

interface RawEnv {
  name?: string;
  main?: string;
  assets?: { directory: string; binding?: string; run_worker_first?: boolean };
  services?: Array<{ binding: string; service: string }>;
  vars?: Record<string, string>;
  triggers?: { crons?: string[] };
  [key: string]: unknown;
}

/**
 * wrangler dev runs several Workers in one workerd only from separate config files, so
 * the local stack flattens each [env.<function>] of the one wrangler.toml into its own
 * file in the stack's data folder, with dev vars and secrets added and zone routes removed.
 * Production keeps deploying from wrangler.toml itself.
 */
export async function writeLocalWranglerConfigs(
  vars: Record<FunctionName, Record<string, string>>,
  /** Per stack (inside its data folder): a running wrangler dev reloads its configs when they change. */
  outDir: string,
): Promise<{ router: string; functions: Record<FunctionName, string> }> {
  const { rawConfig } = experimental_readRawConfig({ config: join(REPO_ROOT, "wrangler.toml") });
  const raw = rawConfig as RawEnv & { env?: Record<string, RawEnv> };
  await mkdir(outDir, { recursive: true });
  const functions = {} as Record<FunctionName, string>;
  for (const fn of FUNCTION_NAMES) {
    const env = raw.env?.[fn];
    if (!env) throw new Error(`wrangler.toml has no [env.${fn}]`);
    const config: Record<string, unknown> = { name: env.name ?? `medchr-${fn}` };
    for (const key of INHERITED) config[key] = env[key] ?? raw[key];
    config.main = join(REPO_ROOT, String(config.main));
    if (env.assets) config.assets = { ...env.assets, directory: join(REPO_ROOT, env.assets.directory) };
    if (env.services) config.services = env.services;
    if (env.triggers) config.triggers = env.triggers;
    // Module rules (the OCR traineddata as a Data module) are top-level and inherited.
    if (raw.rules) config.rules = raw.rules;
    config.vars = { ...(env.vars ?? {}), ...vars[fn] };
    const path = join(outDir, `${fn}.json`);
    await writeFile(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    functions[fn] = path;
  }
  const router = join(outDir, "router.json");
  await writeFile(
    router,
    `${JSON.stringify(
      {
        name: "medchr-dev-router",
        main: join(REPO_ROOT, "scripts", "local", "dev-router.ts"),
        compatibility_date: raw.compatibility_date,
        compatibility_flags: raw.compatibility_flags,
        services: FUNCTION_NAMES.map((fn) => ({
          binding: `FN_${fn.toUpperCase()}`,
          service: raw.env?.[fn]?.name ?? `medchr-${fn}`,
        })),
      },
      null,
      2,
    )}\n`,
  );
  return { router, functions };
}
