/** `npm run vendor:web`: copies the UI's third-party browser files into web/public/vendor/. */
import { runCli } from "./lib/cli";
import { vendorWebAssets } from "./lib/vendor-web-assets";

await runCli(async () => {
  const written = await vendorWebAssets();
  console.log(`vendored ${written.length} files into web/public/vendor/`);
  return 0;
});
