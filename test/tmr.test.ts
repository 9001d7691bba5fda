// Triple modular redundancy (issue 14, part 3): three cores vote 2 of 3 on outputs every cycle and on
// state at epoch ends, the outvoted one is resynchronised from the majority, and nothing is rolled back.
// For every single transient flip in one voting core the released commands are the fault-free ones; a
// dead voter leaves a pair flying with no failover, or the spare in its place; the voter's state vote
// holds where two cores carry flips in the same block.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Fault } from '../src/faults/fault.js';
import { simulate } from '../src/mission/fly.js';
import { Processor } from '../src/processor/processor.js';
import { repairFromMajority, voteOfThree } from '../src/processor/voter.js';
import { runBench } from '../src/bench/bench.js';
import { ALL_BLOCKS } from '../src/core/state.js';
import './fast-check-seed.js';
import { fly, referenceFsw, setupFor, usedMemoryRange } from './support.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TMR = { redundancy: 'tmr', spare: 'none', duration: 20 } as const;

describe('TMR flight computer', () => {
  const setup = setupFor(TMR);
  const clean = fly(setup, []).result;
  const range = usedMemoryRange(setup);

  it('flies fault-free with three voters: the commands of a lone fault-free core, nothing detected', () => {
    const pair = fly(setupFor({ duration: 20 }), []).result;
    expect(clean.commandDigest).toBe(pair.commandDigest);
    expect(clean.detections).toEqual({ mismatch: 0, trap: 0, watchdog: 0, check: 0, abort: 0 });
    expect(clean.failovers).toBe(0);
  });

  it('for every single flip in one voting core at any cycle, the released commands equal the fault-free ones, with no rollback', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: setup.cycles - 1 }),
        fc.constantFrom('P1', 'P2', 'P3'),
        fc.integer({ min: range.start, max: range.end - 1 }),
        fc.integer({ min: 0, max: 7 }),
        (cycle, processor, address, bit) => {
          const upset: Fault = { cycle, target: 'memory', processor: processor as Fault['processor'], core: 'A', location: address, bit, width: 1 };
          const { result, rows } = fly(setup, [upset], false);
          expect(result.commandDigest).toBe(clean.commandDigest);
          expect(result.missedDeadlines).toBe(0);
          expect(result.failovers).toBe(0);
          expect(rows.every((row) => row.released)).toBe(true);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('100 random upsets over the three voters: the fault-free command stream, no rollback, no missed deadline', () => {
    const long = setupFor({ redundancy: 'tmr', spare: 'none', duration: 300, upsets: { count: 100 } });
    const reference = fly(setupFor({ redundancy: 'tmr', spare: 'none', duration: 300 }), []).result;
    const { result } = fly(long, long.upsets, false);
    expect(result.upsetsInjected).toBe(100);
    expect(result.detections.mismatch).toBeGreaterThan(10);
    expect(result.missedDeadlines).toBe(0);
    expect(result.commandDigest).toBe(reference.commandDigest);
  });

  it('a dead P1 leaves a pair flying, with no failover and no cycle lost; with a spare, P4 takes its place', () => {
    const dead: Fault = { cycle: 50, kind: 'dead', target: 'memory', processor: 'P1', location: 0, bit: 0, width: 1 };
    let finalState = '';
    const alone = simulate(setup, { upsets: [dead], oracle: true, onCycle: ({ computer }) => (finalState = computer.controllerState) });
    expect(alone.failovers).toBe(0);
    expect(alone.missedDeadlines).toBe(0);
    expect(alone.health.failedProcessors).toEqual(['P1']);
    expect(alone.health.degradedAtCycle).toBe(50);
    expect(finalState).toBe('simplex');
    expect(alone.commandDigest).toBe(clean.commandDigest);
    const spared = setupFor({ ...TMR, spare: 'hot' });
    let voters: string[] = [];
    const replaced = simulate(spared, { upsets: [dead], oracle: false, onCycle: ({ computer }) => (voters = computer.primary.cores.map((core) => core.name)) });
    expect(replaced.health.failedProcessors).toEqual(['P1']);
    expect(replaced.health.degradedAtCycle).toBeNull();
    expect(voters).toEqual(['P4', 'P2', 'P3']);
    expect(replaced.commandDigest).toBe(clean.commandDigest);
    // P1's death the one detection: P4, which reads its inputs from its own processor's bus, gets each
    // cycle's frame there too (the group latches it), and is never outvoted.
    expect(replaced.detections).toEqual({ mismatch: 0, trap: 0, watchdog: 1, check: 0, abort: 0 });
  });

  it('a voter over its fail threshold is never resynchronised into the vote again', () => {
    const stuck: Fault = { cycle: 20, kind: 'stuck', stuckAt: 1, target: 'memory', processor: 'P2', core: 'A', location: 1024, bit: 0, width: 1 };
    const run = fly(setupFor({ ...TMR, duration: 60, health: { failThreshold: 2, failWindowSeconds: 600 } }), [stuck], false).result;
    expect(run.health.failedProcessors).toEqual(['P2']);
    expect(run.detections.mismatch).toBe(2);
    expect(run.missedDeadlines).toBe(0);
  });
});

describe('TMR upset files', () => {
  it('name the voters P1–P3 (and the spare P4 with one); a pair has no P3', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lockstep-tmr-')), 'upsets.json');
    writeFileSync(file, JSON.stringify({ upsets: [{ cycle: 5, kind: 'babbling', processor: 'P3' }] }));
    const setup = setupFor({ ...TMR, upsets: { file } });
    expect(setup.upsets.map((upset) => upset.processor)).toEqual(['P3']);
    const { result } = fly(setup, setup.upsets, false);
    expect(result.detectionsByMismatch.outputs).toBeGreaterThan(0);
    expect(result.missedDeadlines).toBe(0);
    expect(() => setupFor({ duration: 20, upsets: { file } })).toThrow(/upsets\[0\]\.processor: P3 is not a processor of a lock-step pair with a hot spare/);
    writeFileSync(file, JSON.stringify({ upsets: [{ cycle: 5, kind: 'dead', processor: 'P4' }] }));
    expect(() => setupFor({ ...TMR, upsets: { file } })).toThrow(/P4 is not a processor of TMR with no spare \(it has P1, P2, P3\)/);
  });
});

describe('the voter', () => {
  it('outvotes, block by block and then byte by byte, two cores each flipped in the same block', () => {
    const group = new Processor(referenceFsw(), 'TMR', Number.POSITIVE_INFINITY, true, ['P1', 'P2', 'P3']);
    group.boot(1e7);
    const [a, b, c] = group.cores;
    b.memoryBytes()[2000] ^= 4;
    c.memoryBytes()[2001] ^= 1;
    const vote = voteOfThree(group.cores, group.cores.map((core) => core.result), true, ALL_BLOCKS);
    expect(vote.verdict).toBe('agreed');
    expect(vote.outvotedState).toBe(0b110);
    repairFromMajority(group.cores, vote.repairs, vote.byteRepairs);
    expect(b.memoryBytes().equals(a.memoryBytes())).toBe(true);
    expect(c.memoryBytes().equals(a.memoryBytes())).toBe(true);
    // The same byte flipped differently in two cores leaves it no majority: a detection.
    b.memoryBytes()[3000] ^= 2;
    c.memoryBytes()[3000] ^= 8;
    a.memoryBytes()[3000] ^= 32;
    expect(voteOfThree(group.cores, group.cores.map((core) => core.result), true, ALL_BLOCKS).verdict).toBe('mismatch');
  });
});

describe('the bench', () => {
  it('times TMR beside the pair, as a ratio against one bare core', () => {
    const result = runBench(setupFor({ duration: 20 }), { rounds: 2, cyclesPerRound: 10 });
    expect(Object.keys(result.nsPerCycle).sort()).toEqual(['bare', 'pair', 'pairSpare', 'tmr', 'tmrComputer', 'untrackedCore']);
    expect(result.ratios.tmrVsBare).toBeCloseTo(result.nsPerCycle.tmr / result.nsPerCycle.bare, 10);
    expect(result.ratios.tmrComputerVsBare).toBeCloseTo(result.nsPerCycle.tmrComputer / result.nsPerCycle.bare, 10);
  });
});
