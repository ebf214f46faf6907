package sluice.nexmark;

/**
 * splitmix32 seeded per event, bit for bit as src/nexmark/prng.ts: 32-bit wrapping int
 * arithmetic here is Math.imul there, and doubles come from the same 32-bit values.
 */
final class Prng {
  private int state;

  static int fmix32(int h) {
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    h ^= h >>> 16;
    return h;
  }

  void seedEvent(int seed, long n) {
    int lo = (int) n;
    int hi = (int) (n >>> 32);
    int h = fmix32(seed ^ (lo * 0x9e3779b1));
    h = fmix32(h ^ ((hi + 0x7f4a7c15) * 0x85ebca77));
    state = h;
  }

  void seedRaw(int s) {
    state = s;
  }

  /** The next mixed 32-bit value (as a signed int). */
  int next() {
    int s = state + 0x9e3779b9;
    state = s;
    int z = (s ^ (s >>> 16)) * 0x85ebca6b;
    z = (z ^ (z >>> 13)) * 0xc2b2ae35;
    return z ^ (z >>> 16);
  }

  double nextDouble() {
    return (next() & 0xFFFFFFFFL) / 4294967296.0;
  }

  int nextInt(int bound) {
    return (int) Math.floor(nextDouble() * bound);
  }

  long nextLong(double bound) {
    return (long) Math.floor(nextDouble() * bound);
  }

  private static final double[] PRICE_HIGH = new double[65536];
  private static final double[] PRICE_LOW = new double[65536];

  static {
    for (int i = 0; i < 65536; i++) {
      PRICE_HIGH[i] = StrictMath.pow(10, (6.0 * i) / 65536);
      PRICE_LOW[i] = StrictMath.pow(10, (6.0 * i) / 4294967296.0);
    }
  }

  /** round(10^(u*6)*100) via the same two tables as the TypeScript generator. */
  long nextPrice() {
    int z = next();
    return Math.round(PRICE_HIGH[z >>> 16] * PRICE_LOW[z & 0xffff] * 100);
  }
}
