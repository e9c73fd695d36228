import canonicalize from "canonicalize";

/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): object members sorted by UTF-16 code units,
 * no insignificant whitespace, numbers in ECMAScript shortest round-trip form (1e+21,
 * -0 -> 0), strings with only the mandatory escapes. Two parties serialising the same
 * value get the same bytes, which is what a keyed hash over an audit event needs: the
 * verifier re-serialises rows read back from jsonb, whose key order and spacing differ
 * from what was written.
 *
 * Throws on values JCS cannot represent (NaN, Infinity, lone surrogates, cycles): hashing
 * such a value would not be reproducible, so it is a programming error.
 */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError("value has no JSON representation");
  return text;
}
