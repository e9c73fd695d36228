/**
 * Where to send the browser after signing in: only a path on this origin. An absolute
 * URL, a scheme-relative "//host" or its backslash spellings ("/\host", which browsers
 * normalise to "//host", WHATWG URL 4.4) would turn the callback into an open redirect
 * (ASVS 5.1.5, OWASP Unvalidated Redirects). Anything doubtful falls back to "/" rather
 * than failing the login.
 */
export const DEFAULT_RETURN_TO = "/";
const MAX_RETURN_TO_CHARS = 512;
const CHECK_ORIGIN = "https://return-to.invalid";

export function safeReturnTo(value: string | null | undefined): string {
  if (!value || value.length > MAX_RETURN_TO_CHARS) return DEFAULT_RETURN_TO;
  if (!value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return DEFAULT_RETURN_TO;
  // Control characters and backslashes anywhere: browsers strip or rewrite them while
  // parsing, so what they would navigate to is not what was checked.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return DEFAULT_RETURN_TO;
  let url: URL;
  try {
    url = new URL(value, CHECK_ORIGIN);
  } catch {
    return DEFAULT_RETURN_TO;
  }
  if (url.origin !== CHECK_ORIGIN) return DEFAULT_RETURN_TO;
  return `${url.pathname}${url.search}${url.hash}`;
}
