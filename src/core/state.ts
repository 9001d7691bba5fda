// A core's state, as the comparator and the checkpoint see it: the bytes of its linear memory and the
// values of its mutable globals. Memory is handled in dirty ranges (track-dirty-memory): a cycle's
// comparison and commit touch only the blocks some core wrote, plus the scrub blocks that rotate through
// all of memory (src/computer/epochs.ts), so that a latent upset in memory nobody writes is still found.
// Comparison is bitwise for memory and Object.is for globals (NaN equals NaN, +0 differs from −0):
// JavaScript cannot observe a NaN's payload through a WebAssembly.Global, so a flip inside the payload
// of a global that already holds NaN is invisible here (memory has no such gap).
import { DIRTY_BLOCKS, MAX_STORE_BYTES } from '../passes/track-dirty-memory.js';
import type { Core } from './core.js';

export type GlobalValue = number | bigint;

/** Every block: compare or copy all of memory. */
export const ALL_BLOCKS = -1;

/**
 * Byte ranges as [start0, end0, start1, end1, ...], at most 17 (16 runs of bits and a tail); filled by
 * memoryRanges and read at once by its caller, so that the per-cycle path allocates nothing.
 */
export const RANGES = new Int32Array(2 * (DIRTY_BLOCKS / 2 + 1));

/**
 * Fills RANGES with the byte ranges of memory covered by the block mask — runs of set bits,
 * each extended by MAX_STORE_BYTES (a store can straddle into the next block), and the memory grown
 * beyond the tracked range, which has no bits of its own — and returns how many numbers it wrote
 * (two per range).
 */
export function memoryRanges(core: Core, mask: number, length: number): number {
  const tracking = core.flightModule.dirtyTracking;
  let count = 0;
  if (!tracking || mask === ALL_BLOCKS) {
    RANGES[0] = 0;
    RANGES[1] = length;
    count = 1;
  } else {
    const shift = tracking.blockShift;
    let block = 0;
    while (block < DIRTY_BLOCKS) {
      if (((mask >>> block) & 1) === 0) {
        block++;
        continue;
      }
      let end = block;
      while (end < DIRTY_BLOCKS && ((mask >>> end) & 1) === 1) end++;
      const start = block << shift;
      if (start >= length) break;
      RANGES[2 * count] = start;
      RANGES[2 * count + 1] = Math.min((end << shift) + MAX_STORE_BYTES, length);
      count++;
      block = end;
    }
    if (length > tracking.trackedBytes) {
      RANGES[2 * count] = tracking.trackedBytes;
      RANGES[2 * count + 1] = length;
      count++;
    }
  }
  return 2 * count;
}

export function globalsEqual(a: Core, b: Core): boolean {
  const count = a.globals.length;
  for (let i = 0; i < count; i++) {
    if (!Object.is(a.globals[i].value, b.globals[i].value)) return false;
  }
  return true;
}

/** Whether two cores' states agree on the globals and the memory ranges of `mask`. */
export function statesEqual(a: Core, b: Core, mask: number = ALL_BLOCKS): boolean {
  if (!globalsEqual(a, b)) return false;
  const bytesA = a.memoryBytes();
  const bytesB = b.memoryBytes();
  if (bytesA.length !== bytesB.length) return false;
  const end = memoryRanges(a, mask, bytesA.length);
  for (let i = 0; i < end; i += 2) {
    if (bytesA.compare(bytesB, RANGES[i], RANGES[i + 1], RANGES[i], RANGES[i + 1]) !== 0) return false;
  }
  return true;
}

/** Whether two cores' persistent regions agree (true for a module that declares none). */
export function persistentRegionsEqual(a: Core, b: Core): boolean {
  const region = a.flightModule.persistent;
  if (!region) return true;
  // A loop, not Buffer.compare (a native call, which costs more than this small region), compared every
  // cycle: a word at a time where the region is aligned to words, as regions of C and AssemblyScript are.
  if ((region.offset | region.length) % 4 === 0) {
    const wordsA = a.memoryWords();
    const wordsB = b.memoryWords();
    for (let i = region.offset >> 2, end = (region.offset + region.length) >> 2; i < end; i++) if (wordsA[i] !== wordsB[i]) return false;
    return true;
  }
  const bytesA = a.memoryBytes();
  const bytesB = b.memoryBytes();
  for (let i = region.offset, end = region.offset + region.length; i < end; i++) if (bytesA[i] !== bytesB[i]) return false;
  return true;
}

/**
 * Whether `b` and `c` both agree with `a` on the globals and the memory ranges of `mask` (statesEqual(a, b)
 * and statesEqual(a, c)): the ranges worked out once, and each global read once from `a`.
 */
export function statesOfThreeEqual(a: Core, b: Core, c: Core, mask: number = ALL_BLOCKS): boolean {
  const globals = a.globals.length;
  for (let i = 0; i < globals; i++) {
    const value = a.globals[i].value;
    if (!Object.is(value, b.globals[i].value) || !Object.is(value, c.globals[i].value)) return false;
  }
  const bytesA = a.memoryBytes();
  const bytesB = b.memoryBytes();
  const bytesC = c.memoryBytes();
  if (bytesA.length !== bytesB.length || bytesA.length !== bytesC.length) return false;
  const end = memoryRanges(a, mask, bytesA.length);
  // Buffer.compare, two of them per range: ranges span blocks of kilobytes, where the native comparison
  // outruns any loop over three memories in JavaScript despite its fixed cost per call. From the top of
  // memory down: the blocks a flight program writes every cycle (its stack and data) are usually the low
  // ones, and compared last they are still in the cache when the cores run again, where the scrub's blocks,
  // which nobody else reads, would have pushed them out (the order changes nothing but the time).
  for (let i = end - 2; i >= 0; i -= 2) {
    const start = RANGES[i];
    const stop = RANGES[i + 1];
    if (bytesA.compare(bytesB, start, stop, start, stop) !== 0 || bytesA.compare(bytesC, start, stop, start, stop) !== 0) return false;
  }
  return true;
}

/** Whether `b`'s and `c`'s persistent regions both agree with `a`'s (persistentRegionsEqual each), in one pass. */
export function persistentRegionsOfThreeEqual(a: Core, b: Core, c: Core): boolean {
  const region = a.flightModule.persistent;
  if (!region) return true;
  if ((region.offset | region.length) % 4 === 0) {
    const x = a.memoryWords();
    const y = b.memoryWords();
    const z = c.memoryWords();
    for (let i = region.offset >> 2, end = (region.offset + region.length) >> 2; i < end; i++) {
      const word = x[i];
      if (word !== y[i] || word !== z[i]) return false;
    }
    return true;
  }
  const x = a.memoryBytes();
  const y = b.memoryBytes();
  const z = c.memoryBytes();
  for (let i = region.offset, end = region.offset + region.length; i < end; i++) {
    const byte = x[i];
    if (byte !== y[i] || byte !== z[i]) return false;
  }
  return true;
}

/**
 * Copies the state of `from` into `to` (instances of builds of one module, whose memory layouts and state
 * globals are the same): the globals and the memory ranges of `mask`, all of it by default. A partial
 * copy is whole only when the two agreed outside those ranges before.
 */
export function copyState(from: Core, to: Core, mask: number = ALL_BLOCKS): void {
  const source = from.memoryBytes();
  ensureMemorySize(to, source.length);
  const target = to.memoryBytes();
  const end = memoryRanges(from, mask, source.length);
  for (let i = 0; i < end; i += 2) target.set(source.subarray(RANGES[i], RANGES[i + 1]), RANGES[i]);
  for (let i = 0; i < from.globals.length; i++) to.globals[i].value = from.globals[i].value;
}

/** Grows a core's memory to `bytes` (memory never shrinks; a smaller state leaves the rest zeroed). */
export function ensureMemorySize(core: Core, bytes: number): void {
  const current = core.memory.buffer.byteLength;
  if (current < bytes) core.memory.grow((bytes - current) / 65536);
}
