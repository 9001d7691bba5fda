// The checkpoint stream: the receiver rebuilds exactly the sender's bytes from XOR zero-run records over
// any memories and dirty ranges, and a bit flipped anywhere in transit is caught by a check before it is
// applied, so that sending again from where the receiver asks gives the exact bytes all the same.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyStream, CheckpointStreamWriter, REGION_GLOBALS, REGION_MEMORY, type StreamEncoding } from '../src/spare/checkpoint-stream.js';

const MEMORY = 512;
const GLOBALS = 24;

/** A memory pair: a committed copy and the next state, which differs in sparse runs (as a cycle leaves it). */
const memories = fc
  .tuple(
    fc.uint8Array({ minLength: MEMORY, maxLength: MEMORY }),
    fc.array(fc.tuple(fc.nat(MEMORY - 1), fc.integer({ min: 1, max: 64 }), fc.uint8Array({ minLength: 64, maxLength: 64 })), { maxLength: 12 }),
    fc.uint8Array({ minLength: GLOBALS, maxLength: GLOBALS }),
    fc.uint8Array({ minLength: GLOBALS, maxLength: GLOBALS }),
  )
  .map(([base, edits, globalsBase, globalsNext]) => {
    const next = Uint8Array.from(base);
    for (const [at, length, bytes] of edits) next.set(bytes.subarray(0, Math.min(length, MEMORY - at)), at);
    return { base, next, globalsBase, globalsNext };
  });

/** Dirty ranges: ascending, disjoint [start, end) pairs (empty ranges included). */
const ranges = fc.uniqueArray(fc.nat(MEMORY), { maxLength: 16 }).map((cuts) => {
  const sorted = [...cuts].sort((a, b) => a - b);
  const pairs: [number, number][] = [];
  for (let i = 0; i + 1 < sorted.length; i += 2) pairs.push([sorted[i], sorted[i + 1]]);
  return pairs;
});

const encodings = fc.constantFrom<StreamEncoding>('xor-zero-run', 'raw');

function encode(encoding: StreamEncoding, m: { base: Uint8Array; next: Uint8Array; globalsBase: Uint8Array; globalsNext: Uint8Array }, dirty: [number, number][]) {
  const writer = new CheckpointStreamWriter(MEMORY, GLOBALS, encoding);
  writer.begin(7, MEMORY);
  for (const [start, end] of dirty) writer.add(REGION_MEMORY, m.base, m.next, start, end);
  writer.add(REGION_GLOBALS, m.globalsBase, m.globalsNext, 0, GLOBALS);
  writer.finish();
  return writer;
}

/** What the receiver should hold: the committed copy with the dirty ranges and the globals of the next state. */
function expected(m: { base: Uint8Array; next: Uint8Array }, dirty: [number, number][]): Uint8Array {
  const result = Uint8Array.from(m.base);
  for (const [start, end] of dirty) result.set(m.next.subarray(start, end), start);
  return result;
}

describe('checkpoint stream', () => {
  it('rebuilds the exact bytes from any memories and dirty ranges', () => {
    fc.assert(
      fc.property(memories, ranges, encodings, (m, dirty, encoding) => {
        const writer = encode(encoding, m, dirty);
        const target = { memory: Uint8Array.from(m.base), globals: Uint8Array.from(m.globalsBase) };
        const result = applyStream(writer.bytes, writer.length, target);
        expect(result).toMatchObject({ complete: true, cycle: 7, memoryLength: MEMORY });
        expect(target.memory).toEqual(expected(m, dirty));
        expect(target.globals).toEqual(m.globalsNext);
        expect(writer.rawBytes).toBe(dirty.reduce((sum, [s, e]) => sum + e - s, 0) + GLOBALS);
      }),
      { numRuns: 300 },
    );
  });

  it('never applies a record with a bit flipped in transit, and a resend from where it asks gives the exact bytes', () => {
    fc.assert(
      fc.property(memories, ranges, encodings, fc.nat(), fc.integer({ min: 1, max: 8 }), (m, dirty, encoding, where, width) => {
        const writer = encode(encoding, m, dirty);
        const sent = writer.bytes.slice(0, writer.length);
        const received = Uint8Array.from(sent);
        const first = where % (writer.length * 8 - width + 1);
        for (let b = first; b < first + width; b++) received[b >> 3] ^= 1 << (b & 7);
        const target = { memory: Uint8Array.from(m.base), globals: Uint8Array.from(m.globalsBase) };
        const result = applyStream(received, received.length, target);
        expect(result.complete).toBe(false);
        expect(result.resendFrom).toBeLessThanOrEqual(first >> 3);
        // What was applied before the flip is verified: the copy holds no byte that is neither old nor new.
        const whole = expected(m, dirty);
        expect(target.memory.every((byte, i) => byte === m.base[i] || byte === whole[i])).toBe(true);
        received.set(sent.subarray(result.resendFrom), result.resendFrom);
        expect(applyStream(received, received.length, target, result.resendFrom).complete).toBe(true);
        expect(target.memory).toEqual(expected(m, dirty));
        expect(target.globals).toEqual(m.globalsNext);
      }),
      { numRuns: 500 },
    );
  });

  it('sends an unchanged range as a few bytes, and never more than its raw bytes plus a header', () => {
    const base = new Uint8Array(MEMORY).fill(0x5a);
    const writer = new CheckpointStreamWriter(MEMORY, 0, 'xor-zero-run');
    writer.begin(0, MEMORY);
    writer.add(REGION_MEMORY, base, base, 0, MEMORY);
    expect(writer.finish()).toBeLessThan(50);
    fc.assert(
      fc.property(memories, (m) => {
        const w = new CheckpointStreamWriter(MEMORY, 0, 'xor-zero-run');
        w.begin(0, MEMORY);
        w.add(REGION_MEMORY, m.base, m.base.map((b, i) => b ^ ((i * 37 + 11) & 0xff | 1)), 0, MEMORY); // every byte differs
        expect(w.finish()).toBeLessThanOrEqual(20 + 20 + MEMORY);
      }),
      { numRuns: 20 },
    );
  });
});
