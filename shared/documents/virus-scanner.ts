/**
 * The optional virus scan of uploads (security-baseline "uploads": ClamAV through clamd
 * before processing). Configured by two plain settings, CLAMD_HOST and CLAMD_PORT; with
 * neither set there is no scan (documents record scan_result "not_scanned"). With only one
 * set, or a bad value, the upload routes refuse to work (503): a deployment that meant to
 * scan must never silently stop scanning.
 */
import { err, ok, type Result } from "../core/result";
import { type ClamdScanError, type ClamdScanResult, scanWithClamd } from "./scan-with-clamd";
import type { OpenTcpSocket } from "./tcp-socket";

export interface VirusScanner {
  scan(input: ReadableStream<Uint8Array>): Promise<Result<ClamdScanResult, ClamdScanError>>;
}

export interface ClamdSettings {
  readonly host: string;
  readonly port: number;
}

export interface ClamdSettingsProblem {
  readonly code: "unavailable";
  readonly message: string;
  /** Setting names only, never values. */
  readonly problems: readonly string[];
}

/** A host name or an IPv4/IPv6 literal: nothing that could smuggle a scheme, path or credentials. */
const HOST_PATTERN =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[?[0-9A-Fa-f:.]+\]?)$/;

function text(env: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = env[name];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

/** null: scanning is not configured. */
export function readClamdSettings(
  env: Readonly<Record<string, unknown>>,
): Result<ClamdSettings | null, ClamdSettingsProblem> {
  const host = text(env, "CLAMD_HOST");
  const portText = text(env, "CLAMD_PORT");
  if (host === undefined && portText === undefined) return ok(null);
  const problems: string[] = [];
  if (host === undefined) problems.push("CLAMD_HOST is missing (CLAMD_PORT is set)");
  else if (host.length > 253 || !HOST_PATTERN.test(host)) problems.push("CLAMD_HOST is not a host name");
  const port = Number(portText);
  if (portText === undefined) problems.push("CLAMD_PORT is missing (CLAMD_HOST is set)");
  else if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) {
    problems.push("CLAMD_PORT is not a TCP port");
  }
  if (problems.length > 0 || host === undefined) {
    return err({ code: "unavailable", message: "The virus scanner is not configured correctly.", problems });
  }
  return ok({ host: host.replace(/^\[|\]$/g, ""), port });
}

export function createClamdScanner(
  settings: ClamdSettings,
  openSocket: OpenTcpSocket,
  options: { timeoutMs?: number } = {},
): VirusScanner {
  return {
    scan: (input) =>
      scanWithClamd(input, {
        host: settings.host,
        port: settings.port,
        openSocket,
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      }),
  };
}
