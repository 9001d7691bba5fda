// Predictive encoding of a checkpoint record's 8-byte words, after FPC (Burtscher & Ratanaworabhan, "FPC:
// A High-Speed Compressor for Double-Precision Floating-Point Data"): each word is predicted from what
// both ends already hold, and only the residual is sent. Flight software state is mostly f64 estimator
// variables whose low mantissa bytes change every cycle like noise, so XOR against the last value leaves
// 6–7 bytes a word; a stride prediction (twice the last committed value less the one before, as 64-bit
// integers) and a residual sent with its exact bit length (its top bit implied) leave fewer. Words are
// read as pairs of 32-bit halves through Int32Array views, and all 64-bit arithmetic is done on int32
// halves with explicit carries: exact, no BigInt and no heap number per word (this runs at every commit
// of the flight computer, so its speed is the flight computer's).
//
// Both ends hold the committed copy (`base`, the state at the last commit) and two histories: `history`
// and `older`, each byte as it was before the last record that carried it, and before that
// (checkpoint-stream.ts keeps them). Whether a word changes is predicted too: it changes if it changed at
// the last commit (base ≠ history), and only the words where that prediction fails are listed. A
// residual's bit length is sent as its difference from the bit length of the residual the word had at the
// last commit (base against the prediction from history and older): a state variable's noise is steady,
// so that difference is small, and this saves about 5% of the stream on the reference flight software
// over the length of the last change. Decoding reads the payload once, word by word; every loop is
// bounded by the record's words or the payload's bits, whatever the bytes say.
//
// Payload, a bit stream, least significant bit first: gamma(d) where d is the distance from the previous
// mispredicted word (from word -1) to the next (the word count when none is left); then per word, in
// order: at a mispredicted word, the distance to the next; if the word changed, its residual
// z = zigzag(actual − (2·base − history)) as gamma(zigzag(bits(z) − bits(z')) + 1), where
// z' = zigzag(base − (2·history − older)), and the bits of z below its top one. gamma(n ≥ 1): k zeros, a
// one, then the k low bits of n (k = bits(n) − 1).

/** Gamma codes are written up to 24 bits of value; larger distances fall back to another encoding. */
const GAMMA_LIMIT = 1 << 24;

// Int32Array views read words in the platform's byte order; the stream's words are little-endian.
if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('predictive encoding: a big-endian platform is not supported');

/** Indices of mispredicted words, and which words changed, of the record being encoded (grown once to the largest record). */
let mispredicted = new Int32Array(1024);
let changedWords = new Uint8Array(1024);
/** Aligned copies of ranges that do not start on a 4-byte boundary (tests' random ranges; never a core's blocks). */
const unaligned = [new Uint8Array(0), new Uint8Array(0), new Uint8Array(0), new Uint8Array(0)];

/**
 * bytes[start, start + 8·words) as 32-bit halves: a view when aligned, else a copy in scratch `slot`
 * (whose changes the caller copies back if it writes).
 */
function wordsOf(bytes: Uint8Array, start: number, words: number, slot: number): Int32Array {
  const at = bytes.byteOffset + start;
  if ((at & 3) === 0) return new Int32Array(bytes.buffer, at, 2 * words);
  if (unaligned[slot].length < 8 * words) unaligned[slot] = new Uint8Array(8 * words);
  const copy = unaligned[slot];
  copy.set(bytes.subarray(start, start + 8 * words));
  return new Int32Array(copy.buffer, 0, 2 * words);
}

// The residual of one word: results of the 64-bit helpers below, read straight after a call.
let zLo = 0;
let zHi = 0;

/** z = zigzag(a − b), signed 64-bit, folded so that small magnitudes have few bits. */
function zigzagDifference(aLo: number, aHi: number, bLo: number, bHi: number): void {
  const dLo = (aLo - bLo) | 0;
  const dHi = (aHi - bHi - ((aLo >>> 0) < (bLo >>> 0) ? 1 : 0)) | 0;
  const sign = dHi >> 31;
  zLo = (dLo << 1) ^ sign;
  zHi = ((dHi << 1) | (dLo >>> 31)) ^ sign;
}

/** z = zigzag(a − (2·h1 − h2)): the residual against the stride prediction. */
function strideResidual(aLo: number, aHi: number, h1Lo: number, h1Hi: number, h2Lo: number, h2Hi: number): void {
  const twiceLo = h1Lo << 1;
  const twiceHi = (h1Hi << 1) | (h1Lo >>> 31);
  const pLo = (twiceLo - h2Lo) | 0;
  const pHi = (twiceHi - h2Hi - ((twiceLo >>> 0) < (h2Lo >>> 0) ? 1 : 0)) | 0;
  zigzagDifference(aLo, aHi, pLo, pHi);
}

/** The bits of the 64-bit value lo | hi << 32 up to its top one (0 for 0). */
function bitLength(lo: number, hi: number): number {
  return hi !== 0 ? 64 - Math.clz32(hi) : 32 - Math.clz32(lo);
}

/** A bit stream written least significant bit first into out[pos, limit); `ok` false once it overflows. */
class BitWriter {
  private acc = 0;
  private bits = 0;
  ok = true;

  constructor(
    private readonly out: Uint8Array,
    public pos: number,
    private readonly limit: number,
  ) {}

  /** Writes the `count` (≤ 24) low bits of `value`. */
  write(value: number, count: number): void {
    this.acc |= (value & ((1 << count) - 1)) << this.bits;
    this.bits += count;
    while (this.bits >= 8) {
      if (this.pos >= this.limit) {
        this.ok = false;
        return;
      }
      this.out[this.pos++] = this.acc;
      this.acc >>>= 8;
      this.bits -= 8;
    }
  }

  /** Writes the `count` (≤ 32) low bits of `value`. */
  write32(value: number, count: number): void {
    if (count > 24) {
      this.write(value & 0xffff, 16);
      this.write(value >>> 16, count - 16);
    } else this.write(value, count);
  }

  /** gamma(n ≥ 1): k zeros, a one, then the k low bits of n (k = bits(n) − 1). */
  gamma(n: number): void {
    const k = 31 - Math.clz32(n);
    if (k <= 11) this.write((1 << k) | ((n & ((1 << k) - 1)) << (k + 1)), 2 * k + 1);
    else {
      this.write(1 << k, k + 1);
      this.write(n, k);
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

  /** Reads `count` (≤ 24) bits. */
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

  /** Reads `count` (≤ 32) bits. */
  read32(count: number): number {
    if (count > 24) {
      const low = this.read(16);
      return low | (this.read(count - 16) << 16);
    }
    return this.read(count);
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
 * Encodes words [start, end) of `next` against `base` and its histories into out[at, limit); returns the bytes
 * written, or -1 when the range is not whole words or the payload would not fit (the caller then sends the
 * record another way).
 */
export function encodePredictive(base: Uint8Array, history: Uint8Array, older: Uint8Array, next: Uint8Array, start: number, end: number, out: Uint8Array, at: number, limit: number): number {
  const length = end - start;
  if (length <= 0 || length % 8 !== 0 || length / 8 >= GAMMA_LIMIT) return -1;
  const words = length / 8;
  if (mispredicted.length < words) {
    mispredicted = new Int32Array(words);
    changedWords = new Uint8Array(words);
  }
  const b = wordsOf(base, start, words, 0);
  const h = wordsOf(history, start, words, 1);
  const g = wordsOf(older, start, words, 2);
  const n = wordsOf(next, start, words, 3);
  const misses = classifyWords(b, h, n, words);
  const writer = new BitWriter(out, at, limit);
  writeWords(writer, b, h, g, n, words, misses);
  const stop = writer.flush();
  return stop < 0 ? -1 : stop - at;
}

// The loops of encoding and decoding live in functions of their own, with no code after them: V8 compiles
// a long loop on stack replacement before the code that follows it has run, and code reached with no
// type feedback then deoptimizes — at every commit, which made encoding ten times slower.

/**
 * Bytes the XOR zero-run encoding of the last range encodePredictive took cannot go below: every
 * differing byte is a literal, and each run of changed words (an unchanged word is a run of equal bytes
 * long enough to cut a literal run) costs at least two varint bytes. The stream writer skips trying zero
 * runs when this is no smaller than the predictive payload: the choice, and the bytes, stay the same.
 */
export let zeroRunFloor = 0;

/** Marks the changed words, lists the mispredicted ones and sets zeroRunFloor; returns how many were mispredicted. */
function classifyWords(b: Int32Array, h: Int32Array, n: Int32Array, words: number): number {
  let misses = 0;
  let floor = 0;
  let previousChanged = false;
  for (let w = 0, i = 0; w < words; w++, i += 2) {
    const lo = n[i] ^ b[i];
    const hi = n[i + 1] ^ b[i + 1];
    const changed = lo !== 0 || hi !== 0;
    changedWords[w] = changed ? 1 : 0;
    if (changed !== (h[i] !== b[i] || h[i + 1] !== b[i + 1])) mispredicted[misses++] = w;
    if (changed) {
      floor += nonZeroBytes(lo) + nonZeroBytes(hi) + (previousChanged ? 0 : 2);
    }
    previousChanged = changed;
  }
  zeroRunFloor = floor;
  return misses;
}

function nonZeroBytes(x: number): number {
  return (x & 0xff ? 1 : 0) + (x & 0xff00 ? 1 : 0) + (x & 0xff0000 ? 1 : 0) + (x & 0xff000000 ? 1 : 0);
}

/** Writes the payload's bits for words classified by classifyWords. */
function writeWords(writer: BitWriter, b: Int32Array, h: Int32Array, g: Int32Array, n: Int32Array, words: number, misses: number): void {
  let miss = 0;
  writer.gamma((misses > 0 ? mispredicted[0] : words) + 1);
  for (let w = 0, i = 0; w < words && writer.ok; w++, i += 2) {
    if (miss < misses && mispredicted[miss] === w) {
      miss++;
      writer.gamma((miss < misses ? mispredicted[miss] : words) - w);
    }
    if (changedWords[w] === 0) continue;
    const h1Lo = b[i];
    const h1Hi = b[i + 1];
    const h2Lo = h[i];
    const h2Hi = h[i + 1];
    strideResidual(h1Lo, h1Hi, h2Lo, h2Hi, g[i], g[i + 1]);
    const reference = bitLength(zLo, zHi);
    strideResidual(n[i], n[i + 1], h1Lo, h1Hi, h2Lo, h2Hi);
    const bits = bitLength(zLo, zHi);
    const delta = bits - reference;
    writer.gamma((delta >= 0 ? 2 * delta : -2 * delta - 1) + 1);
    // The residual below its top one, low half first.
    const below = bits - 1;
    if (below > 32) {
      writer.write32(zLo, 32);
      writer.write32(zHi, below - 32);
    } else if (below > 0) writer.write32(zLo, below);
  }
}

/**
 * Applies the predictive payload input[at, end) to out[start, stop), predicting from out (the committed
 * copy) and its histories as the sender did; false if it does not decode to exactly that range.
 */
export function applyPredictive(input: Uint8Array, at: number, end: number, out: Uint8Array, history: Uint8Array, older: Uint8Array, start: number, stop: number): boolean {
  const length = stop - start;
  if (length <= 0 || length % 8 !== 0 || stop > history.length || stop > older.length) return false;
  const words = length / 8;
  const o = wordsOf(out, start, words, 0);
  const h = wordsOf(history, start, words, 1);
  const g = wordsOf(older, start, words, 2);
  const reader = new BitReader(input, at, end);
  if (!readWords(reader, o, h, g, words) || !reader.finished()) return false;
  if (o.buffer !== out.buffer) out.set(new Uint8Array(o.buffer, 0, length), start);
  return true;
}

/** Decodes the payload's words into `o` (the committed copy's words), predicting from `h` and `g`; false on any inconsistency. */
function readWords(reader: BitReader, o: Int32Array, h: Int32Array, g: Int32Array, words: number): boolean {
  let nextMiss = reader.gamma() - 1;
  for (let w = 0, i = 0; w < words; w++, i += 2) {
    if (!reader.ok || nextMiss > words) return false;
    const h1Lo = o[i];
    const h1Hi = o[i + 1];
    const h2Lo = h[i];
    const h2Hi = h[i + 1];
    let changed = h2Lo !== h1Lo || h2Hi !== h1Hi;
    if (w === nextMiss) {
      changed = !changed;
      nextMiss = w + reader.gamma();
    }
    if (!changed) continue;
    strideResidual(h1Lo, h1Hi, h2Lo, h2Hi, g[i], g[i + 1]);
    const code = reader.gamma() - 1;
    const bits = bitLength(zLo, zHi) + ((code & 1) === 0 ? code / 2 : -(code + 1) / 2);
    if (!reader.ok || bits < 0 || bits > 64) return false;
    let rLo = 0;
    let rHi = 0;
    if (bits > 0) {
      const below = bits - 1;
      if (below > 32) {
        rLo = reader.read32(32);
        rHi = reader.read32(below - 32) | (1 << (below - 32));
      } else if (below === 32) {
        rLo = reader.read32(32);
        rHi = 1;
      } else rLo = reader.read32(below) | (1 << below);
    }
    // actual = prediction + unzigzag(residual), modulo 2^64.
    const sign = -(rLo & 1);
    const dLo = ((rLo >>> 1) | (rHi << 31)) ^ sign;
    const dHi = (rHi >>> 1) ^ sign;
    const twiceLo = h1Lo << 1;
    const twiceHi = (h1Hi << 1) | (h1Lo >>> 31);
    const pLo = (twiceLo - h2Lo) | 0;
    const pHi = (twiceHi - h2Hi - ((twiceLo >>> 0) < (h2Lo >>> 0) ? 1 : 0)) | 0;
    const aLo = (pLo + dLo) | 0;
    const aHi = (pHi + dHi + ((aLo >>> 0) < (pLo >>> 0) ? 1 : 0)) | 0;
    // A word sent as changed that decodes to its old value was not what the sender encoded.
    if (aLo === h1Lo && aHi === h1Hi) return false;
    o[i] = aLo;
    o[i + 1] = aHi;
  }
  return nextMiss === words;
}
