/**
 * Byte comparison whose time depends only on the lengths (public here: fixed by each
 * format), never on where the inputs first differ. Works in Workers and Node.
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
