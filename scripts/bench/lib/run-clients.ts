/**
 * `total` operations shared by `clients` concurrent loops: each client takes the next index
 * until none are left, so all stay busy to the end (a fixed split would leave the fast
 * ones idle while the slowest finishes). Resolves when every operation has; rejects on the
 * first failure.
 */
export async function runClients(
  clients: number,
  total: number,
  op: (client: number, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = next++; i < total; i = next++) await op(client, i);
    }),
  );
}

/**
 * Runs every variant `rounds` times, in an order rotated by `stride` each round, so no
 * variant always runs first (or right after the slowest) and a noisy spell hits all alike.
 */
export async function interleavedRounds(
  variants: number,
  rounds: number,
  stride: number,
  measure: (variant: number, round: number) => Promise<void>,
): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < variants; k++) await measure((k + round * stride) % variants, round);
  }
}
