// Predictive encoding of a checkpoint record's 8-byte words, after FPC (Burtscher & Ratanaworabhan, "FPC:
// A High-Speed Compressor for Double-Precision Floating-Point Data"): each word is predicted from what
// both ends already hold, and only the residual is sent. Flight software state is mostly f64 estimator
// variables whose low mantissa bytes change every cycle like noise, so XOR against the last value leaves
// 6–7 bytes a word; a stride prediction (twice the last committed value less the one before, as 64-bit
// integers) and a residual sent with its exact bit length (its top bit implied) leave fewer. Words are
// handled as pairs of 32-bit halves: exact, and no BigInt allocated per word.
//
// Both ends hold the committed copy (`base`, the state at the last commit) and its history (`history`,
// the state at the commit before; src/spare/checkpoint.ts keeps it). Whether a word changes is predicted
// too: it changes if it changed at the last commit (base ≠ history), and only the words where that
// prediction fails are listed. Decoding reads the payload once, word by word; every loop is bounded by
// the record's words or the payload's bits, whatever the bytes say.
//
// Payload, a bit stream, least significant bit first: gamma(d) where d is the distance from the previous
// mispredicted word (from word -1) to the next (the word count when none is left); then per word, in
// order: at a mispredicted word, the distance to the next; if the word changed, its residual
// z = zigzag(actual − prediction) as gamma(zigzag(bits(z) − bits(zigzag(base − history))) + 1) and the
// bits of z below its top one. gamma(n ≥ 1): k zeros, a one, then the k low bits of n (k = bits(n) − 1).

/** Gamma codes are written up to 24 bits of value; larger distances fall back to another encoding. */
const GAMMA_LIMIT = 1 << 24;
const TWO32 = 2 ** 32;

/** Indices of mispredicted words, and which words changed, of the record being encoded (grown once to the largest record). */
let mispredicted = new Int32Array(1024);
let changedWords = new Uint8Array(1024);

// 64-bit words as (lo, hi) pairs of 32-bit halves, exact in doubles, no BigInt allocation. Halves cross
// function boundaries as signed int32 (small integers V8 never boxes; an unsigned one past 2^31 is a heap
// number, one allocation per word, which made coding several times slower) and are read unsigned
// (>>> 0) where the arithmetic needs it. Results land in RESULT (low, high), read straight after a call.
const RESULT = new Int32Array(2);

/** The stride prediction 2·h1 − h2, modulo 2^64. */
function predict(h1Lo: number, h1Hi: number, h2Lo: number, h2Hi: number): void {
  const lo = 2 * (h1Lo >>> 0) - (h2Lo >>> 0);
  const low = lo >>> 0;
  RESULT[0] = low;
  // The store wraps modulo 2^32, as the arithmetic of 64-bit words does.
  RESULT[1] = 2 * (h1Hi >>> 0) - (h2Hi >>> 0) + (lo - low) / TWO32;
}

/** zigzag(a − b): the signed 64-bit difference folded so that small magnitudes have few bits. */
function zigzagDifference(aLo: number, aHi: number, bLo: number, bHi: number): void {
  const lo = (aLo >>> 0) - (bLo >>> 0);
  const dLo = lo >>> 0;
  const dHi = ((aHi >>> 0) - (bHi >>> 0) - (lo < 0 ? 1 : 0)) >>> 0;
  if (dHi >= 0x80000000) {
    const nLo = ~dLo >>> 0;
    const nHi = ~dHi >>> 0;
    RESULT[0] = ((nLo << 1) | 1) >>> 0;
    RESULT[1] = ((nHi << 1) | (nLo >>> 31)) >>> 0;
  } else {
    RESULT[0] = (dLo << 1) >>> 0;
    RESULT[1] = ((dHi << 1) | (dLo >>> 31)) >>> 0;
  }
}

/** p + unzigzag(z), modulo 2^64. */
function addUnzigzag(pLo: number, pHi: number, zLo: number, zHi: number): void {
  let dLo = ((zLo >>> 1) | (zHi << 31)) >>> 0;
  let dHi = zHi >>> 1;
  if ((zLo & 1) === 1) {
    dLo = ~dLo >>> 0;
    dHi = ~dHi >>> 0;
  }
  const lo = (pLo >>> 0) + dLo;
  RESULT[0] = lo;
  RESULT[1] = (pHi >>> 0) + dHi + (lo >= TWO32 ? 1 : 0);
}

/** The little-endian 32-bit word at `o`, as int32 (byte reads: as fast on shared memory as on any, and aligned or not). */
function u32(bytes: Uint8Array, o: number): number {
  return bytes[o] | (bytes[o + 1] << 8) | (bytes[o + 2] << 16) | (bytes[o + 3] << 24);
}

/** Whether the 8 bytes at `o` of a and b are equal. */
function sameWord(a: Uint8Array, b: Uint8Array, o: number): boolean {
  return u32(a, o) === u32(b, o) && u32(a, o + 4) === u32(b, o + 4);
}

function setU32(bytes: Uint8Array, o: number, value: number): void {
  bytes[o] = value;
  bytes[o + 1] = value >>> 8;
  bytes[o + 2] = value >>> 16;
  bytes[o + 3] = value >>> 24;
}

function bitLength(lo: number, hi: number): number {
  return hi !== 0 ? 64 - Math.clz32(hi) : lo !== 0 ? 32 - Math.clz32(lo) : 0;
}

class BitWriter {
  private acc = 0;
  private bits = 0;
  pos = 0;
  ok = true;

  constructor(
    private readonly out: Uint8Array,
    at: number,
    private readonly limit: number,
  ) {
    this.pos = at;
  }

  /** Writes the `count` (≤ 24) low bits of `value`. */
  write(value: number, count: number): void {
    this.acc |= (value & ((1 << count) - 1)) << this.bits;
    this.bits += count;
    while (this.bits >= 8) {
      if (this.pos >= this.limit) {
        this.ok = false;
        return;
      }
      this.out[this.pos++] = this.acc & 0xff;
      this.acc >>>= 8;
      this.bits -= 8;
    }
  }

  gamma(n: number): void {
    const k = 31 - Math.clz32(n);
    this.write(1 << k, k + 1);
    this.write(n, k);
  }

  /** Writes the `count` (≤ 64) low bits of the 64-bit value lo | hi << 32. */
  write64(lo: number, hi: number, count: number): void {
    for (let shift = 0; shift < count && this.ok; shift += 16) {
      const word = shift < 32 ? lo >>> shift : hi >>> (shift - 32);
      this.write(word & 0xffff, Math.min(16, count - shift));
    }
  }

  /** Pads the last byte with zeros; returns the end position, or -1 if the payload did not fit. */
  flush(): number {
    if (this.bits > 0) this.write(0, 8 - this.bits);
    return this.ok ? this.pos : -1;
  }
}

class BitReader {
  private acc = 0;
  private bits = 0;
  ok = true;

  constructor(
    private readonly input: Uint8Array,
    public pos: number,
    private readonly end: number,
  ) {}

  read(count: number): number {
    while (this.bits < count) {
      if (this.pos >= this.end) {
        this.ok = false;
        return 0;
      }
      this.acc |= this.input[this.pos++] << this.bits;
      this.bits += 8;
    }
    const value = this.acc & ((1 << count) - 1);
    this.acc >>>= count;
    this.bits -= count;
    return value;
  }

  gamma(): number {
    let k = 0;
    while (this.read(1) === 0) {
      if (!this.ok || ++k > 24) {
        this.ok = false;
        return 0;
      }
    }
    return (1 << k) | this.read(k);
  }

  /** Whether the whole payload was read and its padding is zeros. */
  finished(): boolean {
    return this.ok && this.pos === this.end && this.acc === 0;
  }
}

/**
 * Encodes words [start, end) of `next` against `base` and `history` into out[at, limit); returns the bytes
 * written, or -1 when the range is not whole words or the payload would not fit (the caller then sends the
 * record another way).
 */
export function encodePredictive(base: Uint8Array, history: Uint8Array, next: Uint8Array, start: number, end: number, out: Uint8Array, at: number, limit: number): number {
  const length = end - start;
  if (length <= 0 || length % 8 !== 0 || length / 8 >= GAMMA_LIMIT) return -1;
  const words = length / 8;
  if (mispredicted.length < words) {
    mispredicted = new Int32Array(words);
    changedWords = new Uint8Array(words);
  }
  let misses = 0;
  for (let w = 0, o = start; w < words; w++, o += 8) {
    const changed = !sameWord(next, base, o);
    changedWords[w] = changed ? 1 : 0;
    if (changed === sameWord(history, base, o)) mispredicted[misses++] = w;
  }
  const writer = new BitWriter(out, at, limit);
  let miss = 0;
  writer.gamma((misses > 0 ? mispredicted[0] : words) + 1);
  for (let w = 0, o = start; w < words && writer.ok; w++, o += 8) {
    if (miss < misses && mispredicted[miss] === w) {
      miss++;
      writer.gamma((miss < misses ? mispredicted[miss] : words) - w);
    }
    if (changedWords[w] === 0) continue;
    const h1Lo = u32(base, o);
    const h1Hi = u32(base, o + 4);
    const aLo = u32(next, o);
    const aHi = u32(next, o + 4);
    const h2Lo = u32(history, o);
    const h2Hi = u32(history, o + 4);
    zigzagDifference(h1Lo, h1Hi, h2Lo, h2Hi);
    const reference = bitLength(RESULT[0], RESULT[1]);
    predict(h1Lo, h1Hi, h2Lo, h2Hi);
    zigzagDifference(aLo, aHi, RESULT[0], RESULT[1]);
    const bits = bitLength(RESULT[0], RESULT[1]);
    const delta = bits - reference;
    writer.gamma((delta >= 0 ? 2 * delta : -2 * delta - 1) + 1);
    if (bits > 1) writer.write64(RESULT[0], RESULT[1], bits - 1);
  }
  const stop = writer.flush();
  return stop < 0 ? -1 : stop - at;
}

/**
 * Applies the predictive payload input[at, end) to out[start, stop), predicting from out (the committed
 * copy) and `history` as the sender did; false if it does not decode to exactly that range.
 */
export function applyPredictive(input: Uint8Array, at: number, end: number, out: Uint8Array, history: Uint8Array, start: number, stop: number): boolean {
  const length = stop - start;
  if (length <= 0 || length % 8 !== 0 || stop > history.length) return false;
  const words = length / 8;
  const reader = new BitReader(input, at, end);
  let nextMiss = reader.gamma() - 1;
  for (let w = 0, o = start; w < words; w++, o += 8) {
    if (!reader.ok || nextMiss > words) return false;
    let changed = !sameWord(history, out, o);
    if (w === nextMiss) {
      changed = !changed;
      nextMiss = w + reader.gamma();
    }
    if (!changed) continue;
    const h1Lo = u32(out, o);
    const h1Hi = u32(out, o + 4);
    const h2Lo = u32(history, o);
    const h2Hi = u32(history, o + 4);
    zigzagDifference(h1Lo, h1Hi, h2Lo, h2Hi);
    const g = reader.gamma() - 1;
    const bits = bitLength(RESULT[0], RESULT[1]) + ((g & 1) === 0 ? g / 2 : -(g + 1) / 2);
    if (!reader.ok || bits < 0 || bits > 64) return false;
    let zLo = 0;
    let zHi = 0;
    if (bits > 0) {
      for (let shift = 0; shift < bits - 1; shift += 16) {
        const word = reader.read(Math.min(16, bits - 1 - shift));
        if (shift < 32) zLo |= word << shift;
        else zHi |= word << (shift - 32);
      }
      if (bits - 1 < 32) zLo |= 1 << (bits - 1);
      else zHi |= 1 << (bits - 33);
    }
    predict(h1Lo, h1Hi, h2Lo, h2Hi);
    addUnzigzag(RESULT[0], RESULT[1], zLo, zHi);
    // A word sent as changed that decodes to its old value was not what the sender encoded.
    if (RESULT[0] === h1Lo && RESULT[1] === h1Hi) return false;
    setU32(out, o, RESULT[0]);
    setU32(out, o + 4, RESULT[1]);
  }
  return nextMiss === words && reader.finished();
}
