import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { KEY_RING_SETTINGS, type KeyRingSetting } from "../../shared/config/functions";
import { encodeBase64Url } from "../../shared/config/key-ring";

/**
 * Local-only key rings, generated at random on the first `npm start` and kept in the
 * data folder (mode 600) so sessions and the audit chain survive restarts. Never used
 * outside the local stack: prod refuses to start without its own secrets.
 */
export type DevSecrets = Record<KeyRingSetting, string>;

export async function loadOrCreateDevSecrets(path: string): Promise<DevSecrets> {
  let existing: Partial<DevSecrets> = {};
  try {
    existing = JSON.parse(await readFile(path, "utf8")) as Partial<DevSecrets>;
    if (KEY_RING_SETTINGS.every((k) => typeof existing[k] === "string")) return existing as DevSecrets;
  } catch {
    // first start
  }
  // Keys added by a newer version are generated; existing ones are kept (the audit chain
  // and sessions of the local data folder depend on them).
  const secrets = Object.fromEntries(
    KEY_RING_SETTINGS.map((name) => [
      name,
      existing[name] ?? `dev1:${encodeBase64Url(new Uint8Array(randomBytes(32)))}`,
    ]),
  ) as DevSecrets;
  await writeFile(path, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}
