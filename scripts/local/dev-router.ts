/**
 * Local only: one origin for the whole product, as the zone routes in wrangler.toml
 * give in production. Sends each request to the function that owns its path.
 * Not deployed: in production Cloudflare's routes do this job.
 */
import type { FunctionName } from "../../shared/config/functions";
import { functionForPath } from "../../shared/http/route-table";

type Bindings = Record<`FN_${Uppercase<FunctionName>}`, { fetch(request: Request): Promise<Response> }>;

export default {
  async fetch(request: Request, env: Bindings): Promise<Response> {
    const fn = functionForPath(new URL(request.url).pathname);
    const target = env[`FN_${fn.toUpperCase()}` as keyof Bindings];
    return target.fetch(request);
  },
};
