/**
 * npm run config:check -- --function api [--env-file .env.prod]
 * Validates a function's environment exactly as the function will at its first request,
 * so a deploy pipeline can refuse before traffic arrives. Prints setting names, never values.
 * Exit 0 ok, 1 the config would be refused, 2 usage error.
 */
import { parseArgs } from "node:util";
import { FUNCTION_NAMES, type FunctionName } from "../shared/config/functions";
import { loadConfig } from "../shared/config/load-config";
import { loadEnvFile, runCli, UsageError } from "./lib/cli";

await runCli(async () => {
  const { values } = parseArgs({ options: { function: { type: "string" }, "env-file": { type: "string" } } });
  const fn = values.function as FunctionName | undefined;
  if (!fn || !FUNCTION_NAMES.includes(fn))
    throw new UsageError(`--function must be one of ${FUNCTION_NAMES.join(", ")}`);
  loadEnvFile(values["env-file"]);
  const result = loadConfig(fn, process.env);
  if (!result.ok) {
    console.error(result.error.message);
    return 1;
  }
  const mode = result.value.strict ? "strict (prod/HIPAA)" : result.value.appEnv;
  console.info(`medchr-${fn}: configuration ok, mode ${mode}`);
  return 0;
});
