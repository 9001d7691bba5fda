// The voter: what stands between three cores in triple modular redundancy (TMR) and the spacecraft. Each
// cycle it releases the outputs two of the three agree on, bit for bit (completed, same outputs, same
// persistent region: the comparator's own agreement, src/processor/comparator.ts), and names the third,
// outvoted, for resynchronisation from the majority. At an epoch's end it votes on their state too, block
// by block and global by global (the blocks the cores wrote, and the scrub's): a core outvoted in a block
// takes that block from the majority. Voting by block rather than by whole state matters once upsets
// accumulate: two cores each holding a latent flip in a different block still leave every block a
// majority. With no majority — no two cores agreeing on the outputs, or on some block — nothing can be
// trusted: that is a detection, as a comparator's mismatch is. Where two cores are outvoted in the same
// block (two latent flips in one block, each in another core), the block is voted byte by byte.
import type { Core, CycleResult } from '../core/core.js';
import { DIRTY_BLOCKS } from '../passes/track-dirty-memory.js';
import { memoryRanges, persistentRegionsEqual, persistentRegionsOfThreeEqual, RANGES, statesOfThreeEqual } from '../core/state.js';
import { compareCores, type MismatchKind, type Verdict } from './comparator.js';

export interface Vote {
  verdict: Verdict;
  mismatch: MismatchKind | null;
  /** Cores outvoted on their outputs, or stopped (bit i: core i): resynchronised whole from the majority. */
  outvotedWhole: number;
  /** Cores outvoted in some block or global of their state (bit i: core i): repaired from `repairs`. */
  outvotedState: number;
  /** A core of the output majority, whose outputs are released (-1: no majority). */
  majority: number;
  /** Modelled instructions until the vote: the slower of the agreeing pair (a dead third does not delay it). */
  decisionInstructions: number;
  /**
   * State repairs: [core, source core, block (or -1 - global index)], flattened; and bytes voted one by one,
   * [core, address, value]. Read before the next vote.
   */
  readonly repairs: number[];
  readonly byteRepairs: number[];
}

/** The comparator's agreement on outputs (completed, same outputs, same persistent region), inlined: the vote runs every cycle. */
function agree(cores: readonly Core[], results: readonly CycleResult[], i: number, j: number): boolean {
  return results[i].status === 'ok' && results[j].status === 'ok' && cores[i].outputs.sameAs(cores[j].outputs) && persistentRegionsEqual(cores[i], cores[j]);
}

/**
 * agree(0, 1) and agree(0, 2) — all three completed, with the same outputs and persistent region — asked in
 * one pass over the three cores: what nearly every cycle finds, and the vote's whole cost per cycle then.
 * Agreement is an equivalence (the same bits), so this is also agree(1, 2).
 */
function unanimous(cores: readonly Core[], results: readonly CycleResult[]): boolean {
  return (
    results[0].status === 'ok' &&
    results[1].status === 'ok' &&
    results[2].status === 'ok' &&
    cores[0].outputs.sameAsBoth(cores[1].outputs, cores[2].outputs) &&
    persistentRegionsOfThreeEqual(cores[0], cores[1], cores[2])
  );
}

/** The slower of two cores: when the voter has both of them. */
function slower(results: readonly CycleResult[], i: number, j: number): number {
  return Math.max(results[i].instructions, results[j].instructions);
}

/** The vote of the last cycle, updated in place (the per-cycle path allocates nothing). */
const vote: Vote = { verdict: 'agreed', mismatch: null, outvotedWhole: 0, outvotedState: 0, majority: 0, decisionInstructions: 0, repairs: [], byteRepairs: [] };

/** Votes on three cores' last cycle: outputs every cycle, state (by block) when `compareState`. */
export function voteOfThree(cores: readonly Core[], results: readonly CycleResult[], compareState: boolean, blocks: number): Vote {
  // Setting an array's length costs even when it is 0 already; nearly every vote has no repairs.
  if (vote.repairs.length !== 0) vote.repairs.length = 0;
  if (vote.byteRepairs.length !== 0) vote.byteRepairs.length = 0;
  vote.outvotedState = 0;
  vote.verdict = 'agreed';
  vote.mismatch = null;
  if (unanimous(cores, results)) {
    vote.majority = 0;
    vote.outvotedWhole = 0;
    vote.decisionInstructions = Math.max(results[0].instructions, results[1].instructions, results[2].instructions);
  } else if (agree(cores, results, 0, 1)) {
    // Not unanimous, so core 2 is outvoted: agree(0, 2) would fail, and agree(1, 2) with it.
    vote.majority = 0;
    vote.outvotedWhole = 0b100;
    vote.decisionInstructions = slower(results, 0, 1);
  } else if (agree(cores, results, 0, 2)) {
    vote.majority = 0;
    vote.outvotedWhole = 0b010;
    vote.decisionInstructions = slower(results, 0, 2);
  } else if (agree(cores, results, 1, 2)) {
    vote.majority = 1;
    vote.outvotedWhole = 0b001;
    vote.decisionInstructions = slower(results, 1, 2);
  } else {
    // No two agree: the comparator's verdict on the first pair says how (a stopped core, or a mismatch).
    const { verdict, mismatch } = compareCores(cores[0], cores[1], results[0], results[1], false, 0);
    vote.verdict = verdict;
    vote.mismatch = mismatch;
    vote.majority = -1;
    vote.outvotedWhole = 0;
    vote.decisionInstructions = Math.max(slower(results, 0, 1), results[2].instructions);
    return vote;
  }
  if (compareState && !voteOnState(cores, vote.outvotedWhole, blocks)) {
    vote.verdict = 'mismatch';
    vote.mismatch = 'state';
    vote.majority = -1;
    vote.outvotedWhole = 0;
    vote.outvotedState = 0;
    vote.repairs.length = 0;
    vote.byteRepairs.length = 0;
  }
  return vote;
}

/**
 * The state vote among the cores not already outvoted on their outputs: every block of `blocks` and every
 * global needs a majority (with two voters left, their agreement). Notes the repairs; false: no majority.
 */
function voteOnState(cores: readonly Core[], outvoted: number, blocks: number): boolean {
  // Nearly every epoch all three agree: one comparison of the three (a pair's two, the ranges worked out
  // once) says so without voting block by block (which then finds every block and global unanimous).
  if (outvoted === 0 && statesOfThreeEqual(cores[0], cores[1], cores[2], blocks)) return true;
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
    if (!decide(voters, same, block) && (voters.length < 3 || !voteBytes(cores, end))) return false;
  }
  const globals = cores[0].globals.length;
  for (let g = 0; g < globals; g++) {
    if (!decide(voters, (i, j) => Object.is(cores[i].globals[g].value, cores[j].globals[g].value), -1 - g)) return false;
  }
  return true;
}

/** One block's (or global's) vote: all equal, a majority (a repair noted), or none. */
function decide(voters: readonly number[], same: (i: number, j: number) => boolean, what: number): boolean {
  if (voters.length === 2) return same(voters[0], voters[1]);
  if (same(0, 1)) {
    if (!same(0, 2)) note(2, 0, what);
    return true;
  }
  if (same(0, 2)) return note(1, 0, what);
  if (same(1, 2)) return note(0, 1, what);
  return false;
}

/** A block with no majority as a whole, voted byte by byte over its ranges (in RANGES, `end` numbers). */
function voteBytes(cores: readonly Core[], end: number): boolean {
  const [a, b, c] = [cores[0].memoryBytes(), cores[1].memoryBytes(), cores[2].memoryBytes()];
  const start = vote.byteRepairs.length;
  for (let r = 0; r < end; r += 2) {
    for (let i = RANGES[r]; i < RANGES[r + 1]; i++) {
      const x = a[i];
      const y = b[i];
      const z = c[i];
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
}

function note(core: number, source: number, what: number): true {
  vote.repairs.push(core, source, what);
  vote.outvotedState |= 1 << core;
  return true;
}

/** Applies the state vote's repairs: each outvoted block, byte or global taken from its majority. */
export function repairFromMajority(cores: readonly Core[], repairs: readonly number[], byteRepairs: readonly number[]): void {
  for (let i = 0; i < byteRepairs.length; i += 3) cores[byteRepairs[i]].memoryBytes()[byteRepairs[i + 1]] = byteRepairs[i + 2];
  for (let i = 0; i < repairs.length; i += 3) {
    const core = cores[repairs[i]];
    const source = cores[repairs[i + 1]];
    const what = repairs[i + 2];
    if (what < 0) {
      core.globals[-1 - what].value = source.globals[-1 - what].value;
      continue;
    }
    const from = source.memoryBytes();
    const to = core.memoryBytes();
    const end = memoryRanges(source, 1 << what, from.length);
    for (let r = 0; r < end; r += 2) to.set(from.subarray(RANGES[r], RANGES[r + 1]), RANGES[r]);
  }
}
