import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isAllowed, parseAllowlist, type SecretFinding, SKIPPED_FILES, scanText } from "./secret-scan";

export interface ScanResult {
  scannedFiles: number;
  findings: SecretFinding[];
  allowed: number;
}

/** Largest file scanned; bigger tracked files are data (fixtures), listed in the result as skipped. */
const MAX_SCANNED_BYTES = 2 * 1024 * 1024;

export function scanRepository(
  root: string,
  io: { listFiles: () => string[]; read: (file: string) => Buffer },
): ScanResult {
  let allowText = "";
  try {
    allowText = readFileSync(join(root, ".secret-scan-allow"), "utf8");
  } catch {
    // no allowlist: nothing is allowed
  }
  const allow = parseAllowlist(allowText);
  const findings: SecretFinding[] = [];
  let scannedFiles = 0;
  let allowed = 0;
  for (const file of io.listFiles()) {
    if (SKIPPED_FILES.test(file)) continue;
    let bytes: Buffer;
    try {
      bytes = io.read(file);
    } catch {
      continue; // deleted in the working tree
    }
    if (bytes.length > MAX_SCANNED_BYTES || bytes.includes(0)) continue;
    scannedFiles += 1;
    for (const finding of scanText(file, bytes.toString("utf8"))) {
      if (isAllowed(finding, allow)) allowed += 1;
      else findings.push(finding);
    }
  }
  return { scannedFiles, findings, allowed };
}
