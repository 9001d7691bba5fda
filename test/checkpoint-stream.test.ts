// The checkpoint stream: the receiver rebuilds exactly the sender's bytes from predictive, XOR zero-run or
// raw records over any memories, histories and dirty ranges, and a bit flipped anywhere in transit is
// caught by a check before it is applied, so that sending again from where the receiver asks gives the
// exact bytes all the same.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Core } from '../src/core/core.js';
import { Checkpoint } from '../src/spare/checkpoint.js';
import { encodePredictive, zeroRunFloor } from '../src/spare/predictive.js';
import { applyIntact, applyStream, CheckpointStreamWriter, encodeXorZeroRuns, REGION_GLOBALS, REGION_MEMORY, type StreamEncoding } from '../src/spare/checkpoint-stream.js';

const MEMORY = 512;
const GLOBALS = 24;

const edits = fc.array(fc.tuple(fc.nat(MEMORY - 1), fc.integer({ min: 1, max: 64 }), fc.uint8Array({ minLength: 64, maxLength: 64 })), { maxLength: 12 });

function edited(from: Uint8Array, changes: [number, number, Uint8Array][]): Uint8Array {
  const result = Uint8Array.from(from);
  for (const [at, length, bytes] of changes) if (at < from.length) result.set(bytes.subarray(0, Math.min(length, from.length - at)), at);
  return result;
}

/**
 * A committed copy, its history (the copy at the commit before) and the next state, each differing from
 * the last in sparse runs as a cycle leaves it, some words moving by a small stride (what predictions catch).
 */
const memories = fc
  .tuple(
    fc.uint8Array({ minLength: MEMORY, maxLength: MEMORY }),
    edits,
    edits,
    fc.array(fc.tuple(fc.nat(MEMORY / 8 - 1), fc.bigInt({ min: -(1n << 40n), max: 1n << 40n })), { maxLength: 16 }),
    fc.uint8Array({ minLength: GLOBALS, maxLength: GLOBALS }),
    edits,
    fc.uint8Array({ minLength: GLOBALS, maxLength: GLOBALS }),
    edits,
  )
  .map(([base, historyEdits, nextEdits, strides, globalsBase, globalsHistoryEdits, globalsNext, olderEdits]) => {
    const history = edited(base, historyEdits);
    const older = edited(history, olderEdits);
    const next = edited(base, nextEdits);
    const view = new DataView(next.buffer);
    const baseView = new DataView(base.buffer);
    for (const [word, stride] of strides) {
      const value = baseView.getBigUint64(word * 8, true);
      new DataView(history.buffer).setBigUint64(word * 8, BigInt.asUintN(64, value - stride), true);
      view.setBigUint64(word * 8, BigInt.asUintN(64, value + stride + (stride & 7n)), true);
    }
    const globalsHistory = edited(globalsBase, globalsHistoryEdits);
    return { base, history, older, next, globalsBase, globalsHistory, globalsOlder: edited(globalsHistory, olderEdits), globalsNext };
  });

/** A core with `memory` and no globals or dirty tracking (every commit sends the whole memory). */
function fakeCore(memory: Uint8Array): Core {
  return { name: 'fake', memoryBytes: () => memory, globals: [], flightModule: { dirtyTracking: null } } as unknown as Core;
}

type Memories = typeof memories extends fc.Arbitrary<infer T> ? T : never;

/** Dirty ranges: ascending, disjoint [start, end) pairs (empty ranges included). */
const ranges = fc.uniqueArray(fc.nat(MEMORY), { maxLength: 16 }).map((cuts) => {
  const sorted = [...cuts].sort((a, b) => a - b);
  const pairs: [number, number][] = [];
  for (let i = 0; i + 1 < sorted.length; i += 2) pairs.push([sorted[i], sorted[i + 1]]);
  return pairs;
});

const encodings = fc.constantFrom<StreamEncoding>('predictive', 'xor-zero-run', 'raw');

function encode(encoding: StreamEncoding, m: Memories, dirty: [number, number][]) {
  const writer = new CheckpointStreamWriter(MEMORY, GLOBALS, encoding);
  writer.begin(7, MEMORY);
  for (const [start, end] of dirty) writer.add(REGION_MEMORY, m.base, m.history, m.older, m.next, start, end);
  writer.add(REGION_GLOBALS, m.globalsBase, m.globalsHistory, m.globalsOlder, m.globalsNext, 0, GLOBALS);
  writer.finish();
  return writer;
}

/** The receiver's side before the commit: its copy and histories, as the sender's. */
function receiver(m: Memories) {
  return {
    memory: Uint8Array.from(m.base),
    globals: Uint8Array.from(m.globalsBase),
    memoryHistory: Uint8Array.from(m.history),
    globalsHistory: Uint8Array.from(m.globalsHistory),
    memoryOlder: Uint8Array.from(m.older),
    globalsOlder: Uint8Array.from(m.globalsOlder),
  };
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
        const target = receiver(m);
        const result = applyStream(writer.bytes, writer.length, target);
        expect(result).toMatchObject({ complete: true, cycle: 7, memoryLength: MEMORY });
        expect(target.memory).toEqual(expected(m, dirty));
        expect(target.globals).toEqual(m.globalsNext);
        // The histories now hold what the records replaced, and are untouched elsewhere.
        expect(target.memoryHistory).toEqual(expected({ base: m.history, next: m.base }, dirty));
        expect(target.globalsHistory).toEqual(m.globalsBase);
        expect(target.memoryOlder).toEqual(expected({ base: m.older, next: m.history }, dirty));
        expect(target.globalsOlder).toEqual(m.globalsHistory);
        expect(writer.rawBytes).toBe(dirty.reduce((sum, [s, e]) => sum + e - s, 0) + GLOBALS);
      }),
      { numRuns: 500 },
    );
  });

  it('takes an intact commit without decoding exactly as decoding it would (applyIntact)', () => {
    fc.assert(
      fc.property(memories, ranges, encodings, (m, dirty, encoding) => {
        const writer = encode(encoding, m, dirty);
        const decoded = receiver(m);
        expect(applyStream(writer.bytes, writer.length, decoded).complete).toBe(true);
        const intact = receiver(m);
        applyIntact(writer, intact);
        expect(intact).toEqual(decoded);
      }),
      { numRuns: 300 },
    );
  });

  it('never skips zero runs where they would have been smaller: their floor is a floor (zeroRunFloor)', () => {
    const out = new Uint8Array(4 * MEMORY);
    fc.assert(
      fc.property(memories, fc.nat(MEMORY / 8), fc.nat(MEMORY / 8), (m, a, b) => {
        const [start, end] = [8 * Math.min(a, b), 8 * Math.max(a, b)];
        if (encodePredictive(m.base, m.history, m.older, m.next, start, end, out, 0, out.length) < 0) return;
        const floor = zeroRunFloor;
        expect(encodeXorZeroRuns(m.base, m.next, start, end, out, 0, out.length)).toBeGreaterThanOrEqual(floor);
      }),
      { numRuns: 500 },
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
        const target = receiver(m);
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
      { numRuns: 1000 },
    );
  });

  it('sends an unchanged range as a few bytes, and never more than its raw bytes plus a header', () => {
    const base = new Uint8Array(MEMORY).fill(0x5a);
    for (const encoding of ['predictive', 'xor-zero-run'] as const) {
      const writer = new CheckpointStreamWriter(MEMORY, 0, encoding);
      writer.begin(0, MEMORY);
      writer.add(REGION_MEMORY, base, base, base, base, 0, MEMORY);
      expect(writer.finish()).toBeLessThan(50);
    }
    fc.assert(
      fc.property(memories, encodings, (m, encoding) => {
        const w = new CheckpointStreamWriter(MEMORY, 0, encoding);
        w.begin(0, MEMORY);
        w.add(REGION_MEMORY, m.base, m.history, m.older, m.base.map((b, i) => b ^ ((i * 37 + 11) & 0xff | 1)), 0, MEMORY); // every byte differs
        expect(w.finish()).toBeLessThanOrEqual(20 + 20 + MEMORY);
      }),
      { numRuns: 60 },
    );
  });

  it('sends f64 words on a steady trend as a few bits each, where zero runs send most of their bytes', () => {
    // 64 words of a state moving steadily (as an integrated attitude does), noise in the lowest bits.
    const words = 64;
    const history = new Float64Array(words).map((_, i) => 1 + i / 7);
    const base = history.map((v, i) => v + 1e-3 * (i + 1));
    const next = base.map((v, i) => v + 1e-3 * (i + 1));
    const bytes = (a: Float64Array) => new Uint8Array(a.buffer);
    const sizes = (['predictive', 'xor-zero-run'] as const).map((encoding) => {
      const writer = new CheckpointStreamWriter(words * 8, 0, encoding);
      writer.begin(0, words * 8);
      writer.add(REGION_MEMORY, bytes(base), bytes(history), bytes(history), bytes(next), 0, words * 8);
      const length = writer.finish();
      const none = new Uint8Array(0);
      const target = { memory: Uint8Array.from(bytes(base)), globals: none, memoryHistory: Uint8Array.from(bytes(history)), globalsHistory: none, memoryOlder: Uint8Array.from(bytes(history)), globalsOlder: none };
      expect(applyStream(writer.bytes, length, target).complete).toBe(true);
      expect(target.memory).toEqual(bytes(next));
      return length;
    });
    expect(sizes[0]).toBeLessThan(sizes[1] / 2);
  });

  it('sends no two records over the same bytes, however written and scrubbed ranges and their store tails overlap (Checkpoint)', () => {
    // 32 tracked blocks of 8 bytes and an untracked tail: every range's 16-byte store tail reaches into the
    // next two blocks, or into the tail. The spare decodes what the sender encoded against the same copy.
    const tracked = { dirtyTracking: { blockShift: 3, trackedBytes: 256 } };
    const trackedCore = (memory: Uint8Array) =>
      ({ ...fakeCore(memory), memoryBytes: () => Buffer.from(memory.buffer, memory.byteOffset, memory.length), flightModule: tracked }) as unknown as Core;
    fc.assert(
      fc.property(memories, fc.integer(), fc.integer(), edits, fc.constantFrom<StreamEncoding>('predictive', 'xor-zero-run'), (m, written, scrubbed, struck, encoding) => {
        const ends = [new Checkpoint([], MEMORY, encoding), new Checkpoint([], MEMORY, encoding)];
        for (const end of ends) end.commitCheckpoint(fakeCore(m.history), -1);
        for (const end of ends) end.commitCheckpoint(fakeCore(m.base), 0);
        // An upset struck the committed copy (both ends hold it): the scrub finds it and repairs it.
        for (const end of ends) end.memory.set(edited(end.memory, struck));
        const writer = ends[0].newWriter(encoding);
        ends[0].encodeCommit(writer, trackedCore(m.next), 1, written, scrubbed & ~written);
        expect(ends[1].receive(writer.bytes, writer.length).complete).toBe(true);
        ends[0].receiveIntact(writer);
        expect(ends[1].memory).toEqual(ends[0].memory);
      }),
      { numRuns: 500 },
    );
  });

  it('rebuilds the exact bytes commit after commit, each end keeping its own history (Checkpoint)', () => {
    // Two checkpoints stand for the two ends; each commit is encoded by one and received by the other.
    fc.assert(
      fc.property(fc.array(edits, { minLength: 1, maxLength: 6 }), fc.uint8Array({ minLength: MEMORY, maxLength: MEMORY }), (commits, start) => {
        const sender = new Checkpoint([], MEMORY);
        const spare = new Checkpoint([], MEMORY);
        const writer = sender.newWriter('predictive');
        let state: Uint8Array = start;
        for (const [cycle, changes] of commits.entries()) {
          state = edited(state, changes);
          const core = fakeCore(state);
          sender.encodeCommit(writer, core, cycle);
          expect(sender.receive(writer.bytes, writer.length).complete).toBe(true);
          expect(spare.receive(writer.bytes, writer.length).complete).toBe(true);
          expect(spare.memory).toEqual(state);
        }
      }),
      { numRuns: 100 },
    );
  });
});
