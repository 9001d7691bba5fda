// The cost of the fault hooks when nothing is armed: one core prepared as the flight computer's are
// (CORE_PASSES) against one prepared with FAULT_HOOK_PASSES, both running the same recorded input frames
// in place, interleaved round by round with the order rotated, medians over rounds of nanoseconds per
// cycle — the approach of bench.ts. Two more figures, for transparency: the hooked core when the host
// also reads the counters after every cycle (what a campaign's golden run does: the per-cycle counts are
// differences, the counters wrap modulo 2^32, so nothing needs resetting), and the hooked
// core armed so far ahead that nothing fires (the whole cycle in the hooked twins: what the cycles of
// an experiment cost until its flip fires).
import { Core } from '../core/core.js';
import { armBranchFlip, armResultFlip, MAX_FAULT_INDEX, readFaultCounters } from '../core/fault-core.js';
import { FlightModule } from '../core/flight-module.js';
import type { FlightSetup } from '../mission/fly.js';
import { FAULT_HOOK_PASSES } from '../passes/index.js';
import { recordInputFrames, type BenchOptions } from './bench.js';
import { timeInterleaved } from './interleaved.js';

export interface FaultHooksBenchResult {
  rounds: number;
  cyclesPerRound: number;
  nsPerCycle: {
    /** A core as the flight computer's (CORE_PASSES). */
    plain: number;
    /** The hooked core, nothing armed, counters untouched by the host. */
    hooked: number;
    /** The hooked core, nothing armed, counters read after every cycle (per-cycle counts by difference). */
    hookedCounted: number;
    /** The hooked core armed beyond the cycle (both countdowns): every site hooked, nothing fires. */
    armedNeverFiring: number;
  };
  /** hooked / plain: the goal is at most 1.3. */
  ratio: number;
  ratios: { hookedCountedVsPlain: number; armedVsPlain: number };
  node: string;
}


export function benchFaultHooks(setup: FlightSetup, options: BenchOptions): FaultHooksBenchResult {
  const budget = setup.computer.watchdogInstructions;
  const totalCycles = (options.rounds + 1) * options.cyclesPerRound;
  const frames = recordInputFrames(setup, totalCycles);
  const hookedModule = FlightModule.fromFile(setup.flightModule.source, { passes: FAULT_HOOK_PASSES, channelMap: setup.mission.channels });

  const plain = new Core(setup.flightModule, 'plain', frames[0]);
  const hooked = new Core(hookedModule, 'hooked', frames[0]);
  const counted = new Core(hookedModule, 'counted', frames[0]);
  const armed = new Core(hookedModule, 'armed', frames[0]);
  for (const core of [plain, hooked, counted, armed]) core.boot(setup.computer.bootInstructions);

  let counts = 0;
  let previous = 0;
  const runners: Record<keyof FaultHooksBenchResult['nsPerCycle'], (frame: Float64Array) => void> = {
    plain: (frame) => {
      plain.inputs = frame;
      if (plain.step(budget).status !== 'ok') throw new Error('fault-hooks bench: the plain core failed a fault-free cycle');
    },
    hooked: (frame) => {
      hooked.inputs = frame;
      if (hooked.step(budget).status !== 'ok') throw new Error('fault-hooks bench: the hooked core failed a fault-free cycle');
    },
    hookedCounted: (frame) => {
      counted.inputs = frame;
      if (counted.step(budget).status !== 'ok') throw new Error('fault-hooks bench: the hooked core failed a fault-free cycle');
      const { results } = readFaultCounters(counted);
      counts += (results - previous) >>> 0;
      previous = results;
    },
    armedNeverFiring: (frame) => {
      armed.inputs = frame;
      armResultFlip(armed, MAX_FAULT_INDEX, 1n);
      armBranchFlip(armed, MAX_FAULT_INDEX);
      if (armed.step(budget).status !== 'ok') throw new Error('fault-hooks bench: the armed core failed a fault-free cycle');
    },
  };
  const nsPerCycle = timeInterleaved(runners, frames, options);
  // Every configuration flew the same cycles: the hooked ones must have stayed on the plain one's track.
  if (Buffer.compare(plain.memoryBytes(), hooked.memoryBytes()) !== 0 || Buffer.compare(plain.memoryBytes(), armed.memoryBytes()) !== 0) {
    throw new Error('fault-hooks bench: a hooked core diverged from the plain one');
  }
  if (counts <= 0) throw new Error('fault-hooks bench: the hooked core counted no value-producing instructions');

  return {
    rounds: options.rounds,
    cyclesPerRound: options.cyclesPerRound,
    nsPerCycle,
    ratio: nsPerCycle.hooked / nsPerCycle.plain,
    ratios: { hookedCountedVsPlain: nsPerCycle.hookedCounted / nsPerCycle.plain, armedVsPlain: nsPerCycle.armedNeverFiring / nsPerCycle.plain },
    node: process.version,
  };
}

export function formatFaultHooksBench(result: FaultHooksBenchResult): string {
  const ns = result.nsPerCycle;
  const us = (value: number) => `${(value / 1000).toFixed(2)} µs/cycle`;
  return [
    `fault-hooks bench — ${result.rounds} rounds × ${result.cyclesPerRound} cycles each, medians, ${result.node}`,
    `  plain core (CORE_PASSES)                 ${us(ns.plain)}`,
    `  hooked core, nothing armed               ${us(ns.hooked)}   ${result.ratio.toFixed(2)}× plain (goal ≤ 1.3×)`,
    `  hooked, counters read every cycle        ${us(ns.hookedCounted)}   ${result.ratios.hookedCountedVsPlain.toFixed(2)}× plain`,
    `  hooked, armed beyond the cycle           ${us(ns.armedNeverFiring)}   ${result.ratios.armedVsPlain.toFixed(2)}× plain (every site hooked)`,
  ].join('\n');
}
