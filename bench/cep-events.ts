/**
 * The events of `npm run bench:cep` (bench/cep.ts). Deterministic by index, so the Java peers
 * make the same ones (bench/peers/cep-events' `CepEvents`, a port checked by
 * test/bench/cep-events.test.ts and, at each run, by `fingerprint`).
 */

/** One event: its key, kind (fraud: the amount; monitoring: 0 = A, 1 = B, 2 = other) and event time. */
export interface CepEvent {
  key: number;
  kind: number;
  at: number;
}

/** A deterministic spread of values in [0, 1) for event i. */
function spread(i: number, salt: number): number {
  const x = Math.sin(i * 12.9898 + salt * 78.233) * 43758.5453;
  return x - Math.floor(x);
}

/** Fraud event i over `keys` cards: half small amounts (0-9), 5% large (1000), the rest 100; each card every 30 s. */
export function fraudEvent(i: number, keys: number): CepEvent {
  const r = spread(i, 1);
  return { key: i % keys, kind: r < 0.5 ? Math.floor(spread(i, 2) * 10) : r < 0.55 ? 1000 : 100, at: Math.floor((i * 30_000) / keys) };
}

/** Monitoring event i over `keys` devices: 30% A, 30% B, the rest other; each device every 30 s. */
export function monitoringEvent(i: number, keys: number): CepEvent {
  const r = spread(i, 3);
  return { key: i % keys, kind: r < 0.3 ? 0 : r < 0.6 ? 1 : 2, at: Math.floor((i * 30_000) / keys) };
}

/** A checksum of events 0..n-1, as `CepEvents.fingerprint` computes it in Java. */
export function fingerprint(make: (i: number, keys: number) => CepEvent, n: number, keys: number): number {
  let h = 0;
  for (let i = 0; i < n; i++) {
    const e = make(i, keys);
    h = (h * 31 + e.key * 7 + e.kind * 13 + e.at) % 1_000_000_007; // below 2^53: exact, as Java's long
  }
  return h;
}
