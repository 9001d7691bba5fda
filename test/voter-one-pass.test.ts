// The vote of three compares the three cores in one pass (outputs and persistent region every cycle, the
// state at an epoch's end) where it used to compare them pair by pair. The one pass is only a faster way
// to the same decision: over random differences — stopped cores, output bits, written masks and counts,
// persistent bytes, memory bytes in random blocks (two cores outvoted in one block included), globals
// (NaN, −0) — the vote must release, outvote and repair exactly what the pairwise vote did. That vote is
// kept here, as it was, for reference.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Core, CycleResult, CycleStatus } from '../src/core/core.js';
import { FlightModule } from '../src/core/flight-module.js';
import { ALL_BLOCKS, memoryRanges, persistentRegionsEqual, RANGES, statesEqual } from '../src/core/state.js';
import { DIRTY_BLOCKS } from '../src/passes/track-dirty-memory.js';
import { compareCores } from '../src/processor/comparator.js';
import { Processor } from '../src/processor/processor.js';
import { voteOfThree } from '../src/processor/voter.js';
import './fast-check-seed.js';
import { inputFrame, referenceFsw, wat } from './support.js';

interface Decision {
  verdict: string;
  mismatch: string | null;
  outvotedWhole: number;
  outvotedState: number;
  majority: number;
  decisionInstructions: number;
  repairs: number[];
  byteRepairs: number[];
}

/** The pairwise vote (src/processor/voter.ts before the one-pass comparisons), returning a fresh record. */
function pairwiseVote(cores: readonly Core[], results: readonly CycleResult[], compareState: boolean, blocks: number): Decision {
  const vote: Decision = { verdict: 'agreed', mismatch: null, outvotedWhole: 0, outvotedState: 0, majority: 0, decisionInstructions: 0, repairs: [], byteRepairs: [] };
  const agree = (i: number, j: number) => results[i].status === 'ok' && results[j].status === 'ok' && cores[i].outputs.sameAs(cores[j].outputs) && persistentRegionsEqual(cores[i], cores[j]);
  const slower = (i: number, j: number) => Math.max(results[i].instructions, results[j].instructions);
  const note = (core: number, source: number, what: number): true => {
    vote.repairs.push(core, source, what);
    vote.outvotedState |= 1 << core;
    return true;
  };
  const decide = (voters: readonly number[], same: (i: number, j: number) => boolean, what: number): boolean => {
    if (voters.length === 2) return same(voters[0], voters[1]);
    if (same(0, 1)) {
      if (!same(0, 2)) note(2, 0, what);
      return true;
    }
    if (same(0, 2)) return note(1, 0, what);
    if (same(1, 2)) return note(0, 1, what);
    return false;
  };
  const voteBytes = (end: number): boolean => {
    const [a, b, c] = [cores[0].memoryBytes(), cores[1].memoryBytes(), cores[2].memoryBytes()];
    const start = vote.byteRepairs.length;
    for (let r = 0; r < end; r += 2) {
      for (let i = RANGES[r]; i < RANGES[r + 1]; i++) {
        const [x, y, z] = [a[i], b[i], c[i]];
        if (x === y && y === z) continue;
        const [core, value] = x === y ? [2, x] : x === z ? [1, x] : y === z ? [0, y] : [-1, 0];
        if (core < 0) {
          vote.byteRepairs.length = start;
          return false;
        }
        vote.byteRepairs.push(core, i, value);
        vote.outvotedState |= 1 << core;
      }
    }
    return true;
  };
  const voteOnState = (outvoted: number): boolean => {
    if (outvoted === 0 && statesEqual(cores[0], cores[1], blocks) && statesEqual(cores[0], cores[2], blocks)) return true;
    const voters = [0, 1, 2].filter((i) => ((outvoted >>> i) & 1) === 0);
    const length = cores[voters[0]].memoryBytes().length;
    if (voters.some((i) => cores[i].memoryBytes().length !== length)) return false;
    for (let block = 0; block < DIRTY_BLOCKS; block++) {
      if (((blocks >>> block) & 1) === 0) continue;
      const end = memoryRanges(cores[voters[0]], 1 << block, length);
      const same = (i: number, j: number) => {
        const a = cores[i].memoryBytes();
        const b = cores[j].memoryBytes();
        for (let r = 0; r < end; r += 2) if (a.compare(b, RANGES[r], RANGES[r + 1], RANGES[r], RANGES[r + 1]) !== 0) return false;
        return true;
      };
      if (!decide(voters, same, block) && (voters.length < 3 || !voteBytes(end))) return false;
    }
    for (let g = 0; g < cores[0].globals.length; g++) {
      if (!decide(voters, (i, j) => Object.is(cores[i].globals[g].value, cores[j].globals[g].value), -1 - g)) return false;
    }
    return true;
  };
  if (agree(0, 1)) {
    const all = agree(0, 2);
    vote.majority = 0;
    vote.outvotedWhole = all ? 0 : 0b100;
    vote.decisionInstructions = all ? Math.max(slower(0, 1), results[2].instructions) : slower(0, 1);
  } else if (agree(0, 2)) {
    vote.majority = 0;
    vote.outvotedWhole = 0b010;
    vote.decisionInstructions = slower(0, 2);
  } else if (agree(1, 2)) {
    vote.majority = 1;
    vote.outvotedWhole = 0b001;
    vote.decisionInstructions = slower(1, 2);
  } else {
    const { verdict, mismatch } = compareCores(cores[0], cores[1], results[0], results[1], false, 0);
    return { ...vote, verdict, mismatch, majority: -1, outvotedWhole: 0, decisionInstructions: Math.max(slower(0, 1), results[2].instructions) };
  }
  if (compareState && !voteOnState(vote.outvotedWhole)) return { ...vote, verdict: 'mismatch', mismatch: 'state', majority: -1, outvotedWhole: 0, outvotedState: 0, repairs: [], byteRepairs: [] };
  return vote;
}

/** Flight software with a global of each type and an unaligned persistent region (compared byte by byte, not word by word). */
const GLOBALS_AND_REGION = `(module
  (import "bus" "gyro_x" (func $gyro_x (result f64)))
  (import "bus" "torque_x" (func $torque_x (param f64)))
  (import "bus" "torque_y" (func $torque_y (param f64)))
  (import "bus" "mode" (func $mode (param f64)))
  (memory (export "memory") 1)
  (global $count (mut i32) (i32.const 0))
  (global $big (mut i64) (i64.const 0))
  (global $gain (mut f32) (f32.const 0))
  (global $angle (mut f64) (f64.const 0))
  (func (export "persistent_offset") (result i32) (i32.const 1001))
  (func (export "persistent_length") (result i32) (i32.const 13))
  (func (export "init") (global.set $gain (f32.const 1.5)))
  (func (export "step")
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (global.set $big (i64.sub (global.get $big) (i64.const 3)))
    (global.set $angle (f64.add (global.get $angle) (call $gyro_x)))
    (i32.store (i32.const 1004) (global.get $count))
    (i32.store (i32.mul (i32.and (global.get $count) (i32.const 15)) (i32.const 4096)) (global.get $count))
    (call $torque_x (global.get $angle))
    (call $torque_y (f64.const -0.5))
    (call $mode (f64.convert_i32_s (global.get $count)))))`;

const STATUSES: CycleStatus[] = ['ok', 'trap', 'watchdog', 'check', 'abort'];

/** Mostly none, sometimes one or a few: each kind of difference on its own is common enough to meet the others rarely. */
function some<T>(difference: fc.Arbitrary<T>, maxLength: number, noneWeight = 3): fc.Arbitrary<T[]> {
  return fc.oneof({ weight: noneWeight, arbitrary: fc.constant<T[]>([]) }, { weight: 1, arbitrary: fc.array(difference, { minLength: 1, maxLength }) });
}

/** What one run of the property does to the three cores after a few agreed cycles. */
const differences = fc.record({
  // Mostly completed: a stopped core is one way among several to be outvoted.
  statuses: fc.tuple(...[0, 1, 2].map(() => fc.oneof({ weight: 12, arbitrary: fc.constant<CycleStatus>('ok') }, { weight: 1, arbitrary: fc.constantFrom(...STATUSES) }))),
  instructions: fc.tuple(fc.nat(5000), fc.nat(5000), fc.nat(5000)),
  outputs: some(fc.record({ core: fc.nat(2), what: fc.constantFrom('bit', 'mask', 'writes'), channel: fc.nat(5), bit: fc.nat(63) }), 2),
  persistent: some(fc.record({ core: fc.nat(2), byte: fc.nat(4095), bit: fc.nat(7) }), 2, 5),
  // Flips in a few blocks (and a few addresses), so that two cores' flips often share a block, or a byte.
  memory: some(
    fc.record({
      core: fc.nat(2),
      address: fc.oneof(fc.nat(65535), fc.tuple(fc.constantFrom(0, 1, 2, 5, 31), fc.nat(2047)).map(([block, offset]) => block * 2048 + offset), fc.constantFrom(1004, 2000, 2001, 4096)),
      bit: fc.nat(7),
    }),
    5,
    1,
  ),
  globals: some(fc.record({ core: fc.nat(2), global: fc.nat(3), value: fc.constantFrom(Number.NaN, -0, 0, 1, -1.5, 7) }), 3, 2),
  compareState: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  blocks: fc.oneof(fc.constant(ALL_BLOCKS), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constantFrom(0b1, 0b100111, 1 << 31)),
});

function checkAgainstPairwise(module: FlightModule, runs: number): Record<string, number> {
  const group = new Processor(module, 'TMR', Number.POSITIVE_INFINITY, true, ['P1', 'P2', 'P3']);
  expect(group.boot(1e7).verdict).toBe('agreed');
  const frame = inputFrame();
  for (let cycle = 0; cycle < 5; cycle++) {
    frame.fill(0.001 * (cycle + 1));
    expect(group.runCycle(frame, 1e7, false, false).verdict).toBe('agreed');
  }
  const cores = group.cores;
  // The agreed state every run starts from: memory, globals, and the outputs in each core's bus.
  const memory = cores.map((core) => Buffer.from(core.memoryBytes()));
  const globals = cores.map((core) => core.globals.map((global) => global.value));
  const outputs = cores.map((core) => ({ bits: Uint32Array.from(core.outputs.bits), mask: core.outputs.writtenMask, writes: core.outputs.writes }));
  const region = module.persistent!;
  const seen: Record<string, number> = { unanimous: 0, outvotedWhole: 0, outvotedState: 0, twoOutvotedInState: 0, twoOutvotedInOneBlock: 0, noMajority: 0, stateMismatch: 0 };
  fc.assert(
    fc.property(differences, (d) => {
      cores.forEach((core, i) => {
        core.memoryBytes().set(memory[i]);
        core.globals.forEach((global, g) => (global.value = globals[i][g]));
        core.outputs.bits.set(outputs[i].bits);
        core.outputs.writtenMask = outputs[i].mask;
        core.outputs.writes = outputs[i].writes;
      });
      for (const o of d.outputs) {
        const capture = cores[o.core].outputs;
        if (o.what === 'bit') capture.bits[2 * o.channel + (o.bit >> 5)] ^= 1 << (o.bit & 31);
        else if (o.what === 'mask') capture.writtenMask ^= 1 << o.channel;
        else capture.writes += 1;
      }
      for (const p of d.persistent) cores[p.core].memoryBytes()[region.offset + (p.byte % region.length)] ^= 1 << p.bit;
      for (const m of d.memory) cores[m.core].memoryBytes()[m.address] ^= 1 << m.bit;
      for (const g of d.globals) {
        const globalsOf = cores[g.core].globals;
        if (globalsOf.length === 0) continue;
        const index = g.global % globalsOf.length;
        const type = module.stateGlobals[index].type;
        globalsOf[index].value = type === 'i64' ? BigInt(Math.trunc(g.value) || 0) : type === 'i32' ? Math.trunc(g.value) | 0 : g.value;
      }
      const results: CycleResult[] = [0, 1, 2].map((i) => ({ status: d.statuses[i], instructions: d.instructions[i], trap: null, abort: null }));
      const expected = pairwiseVote(cores, results, d.compareState, d.blocks);
      const vote = voteOfThree(cores, results, d.compareState, d.blocks);
      expect({ ...vote, repairs: [...vote.repairs], byteRepairs: [...vote.byteRepairs] }).toEqual(expected);
      if (expected.verdict === 'agreed' && expected.outvotedWhole === 0 && expected.outvotedState === 0) seen.unanimous++;
      if (expected.outvotedWhole !== 0) seen.outvotedWhole++;
      if (expected.outvotedState !== 0) seen.outvotedState++;
      if (expected.repairs.length > 0 && (expected.outvotedState & (expected.outvotedState - 1)) !== 0) seen.twoOutvotedInState++;
      if (expected.byteRepairs.length > 0) seen.twoOutvotedInOneBlock++;
      if (expected.majority < 0 && expected.mismatch !== 'state') seen.noMajority++;
      if (expected.mismatch === 'state' && expected.majority < 0) seen.stateMismatch++;
    }),
    { numRuns: runs },
  );
  return seen;
}

describe('the vote of three in one pass', () => {
  it('decides as the pairwise vote did: the reference flight software (aligned persistent region, dirty tracking)', () => {
    const seen = checkAgainstPairwise(referenceFsw(), 600);
    // The runs reached every kind of decision, the rare ones included.
    for (const [kind, count] of Object.entries(seen)) expect(count, kind).toBeGreaterThan(0);
  });

  it('decides as the pairwise vote did: globals of every type, an unaligned persistent region', () => {
    const module = FlightModule.fromBytes(wat(GLOBALS_AND_REGION), 'globals-and-region.wat');
    expect(module.stateGlobals.length).toBe(4);
    expect(module.persistent).toEqual({ offset: 1001, length: 13 });
    const seen = checkAgainstPairwise(module, 600);
    for (const kind of ['unanimous', 'outvotedWhole', 'outvotedState', 'noMajority', 'stateMismatch']) expect(seen[kind], kind).toBeGreaterThan(0);
  });
});
