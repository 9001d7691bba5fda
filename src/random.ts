// Seeded randomness for the whole model. Every random draw in a run (sensor noise,
// upset placement) comes from a stream derived from the run's seed and a label, so
// that a run is reproducible bit for bit and adding draws to one stream (say, more
// upsets) never shifts another (the plant's noise).
import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/** FNV-1a over the label, mixed with the seed through splitmix32: a stable 32-bit stream seed. */
export function deriveSeed(seed: number, label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  let z = (h ^ Math.imul(seed | 0, 0x9e3779b9) ^ Math.floor(seed / 0x100000000)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) | 0;
}

/** Everything a stream needs to continue exactly where it was: for snapshots of the simulation. */
export interface RandomState {
  readonly generator: readonly number[];
  readonly spareNormal: number | undefined;
}

export class SeededRandom {
  private rng: RandomGenerator;
  private spareNormal: number | undefined;

  constructor(seed: number, label = '') {
    this.rng = xoroshiro128plus(deriveSeed(seed, label));
  }

  /**
   * A stream whose whole 128-bit state is derived from (seed, label): for the many streams of a campaign
   * (one per experiment), where 32-bit stream seeds would collide — two experiments of a million-strong
   * campaign drawing the same fault about a hundred times.
   */
  static wide(seed: number, label: string): SeededRandom {
    const random = new SeededRandom(seed, label);
    // Each word hashes the label from another start: a collision of one 32-bit hash is not one of all four.
    const words = [0, 1, 2, 3].map((word) => deriveSeed(seed, `${word}#${label}`));
    if (!words.some((word) => word !== 0)) words[3] = 1; // the one state the generator cannot leave
    random.rng = xoroshiro128plusFromState(words);
    return random;
  }

  snapshot(): RandomState {
    return { generator: this.rng.getState(), spareNormal: this.spareNormal };
  }

  restore(state: RandomState): void {
    this.rng = xoroshiro128plusFromState(state.generator);
    this.spareNormal = state.spareNormal;
  }

  /** Uniform in [0, 1), 53 random bits. */
  uniform(): number {
    return uniformFloat64(this.rng);
  }

  /** Uniform integer in [from, to], both included. */
  int(from: number, to: number): number {
    return uniformInt(this.rng, from, to);
  }

  /** Standard normal (Marsaglia polar method, bounded: it accepts with p≈0.785 per try). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const value = this.spareNormal;
      this.spareNormal = undefined;
      return value;
    }
    for (let attempt = 0; attempt < 1000; attempt++) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const factor = Math.sqrt((-2 * Math.log(s)) / s);
        this.spareNormal = v * factor;
        return u * factor;
      }
    }
    throw new Error('SeededRandom.normal: no sample accepted in 1000 tries (generator broken)');
  }
}
