// `lockstep bench`: the cost per control cycle of the flight computer's layers, measured side by side in
// one run so that the ratios survive a noisy, shared machine: one bare core (prepared exactly as the
// flight computer's cores are, running alone with no comparator), the lock-step pair behind its
// comparator, the pair with checkpointing and a hot spare, TMR's three cores behind their voter (at least
// 3× the bare core by construction, aimed at ≤ 3.4×) and the TMR flight computer with its checkpoint
// (no spare). For transparency it also times a core
// without the dirty-memory tracking, which exists only to serve the comparator and the checkpoint.
// All replay the same recorded input frames (a fault-free closed-loop flight), interleaved round by
// round; each figure is the median over rounds of nanoseconds per cycle. The plant is not timed.
import { EpochSchedule } from '../computer/epochs.js';
import { FlightComputer } from '../computer/flight-computer.js';
import { Core } from '../core/core.js';
import { FlightModule } from '../core/flight-module.js';
import { BARE_CORE_PASSES } from '../passes/index.js';
import { Processor } from '../processor/processor.js';
import { flightSoftwareFails, flyOneCore } from '../mission/fault-free.js';
import type { FlightSetup } from '../mission/fly.js';
import { timeInterleaved, type Runner } from './interleaved.js';

export interface BenchOptions {
  readonly rounds: number;
  readonly cyclesPerRound: number;
}

export interface BenchResult {
  fsw: string;
  checkpointInterval: number;
  rounds: number;
  cyclesPerRound: number;
  nsPerCycle: { untrackedCore: number; bare: number; pair: number; pairSpare: number; tmr: number; tmrComputer: number };
  ratios: { pairVsBare: number; pairSpareVsBare: number; tmrVsBare: number; tmrComputerVsBare: number; bareVsUntracked: number; pairSpareVsUntracked: number };
  node: string;
}

/** Records the input frames of a fault-free closed-loop flight with one core; flight software that fails with no upset is refused. */
export function recordInputFrames(setup: FlightSetup, cycles: number): Float64Array[] {
  const frames: Float64Array[] = [];
  const failure = flyOneCore(setup, cycles, (_cycle, inputs) => frames.push(inputs.slice()));
  if (failure) throw flightSoftwareFails(setup.flightModule.source, failure);
  return frames;
}



export function runBench(setup: FlightSetup, options: BenchOptions): BenchResult {
  const budget = setup.computer.watchdogInstructions;
  const interval = setup.computer.checkpointInterval;
  // One extra round of frames for the warm-up, so that cycles run in order, each frame once.
  const totalCycles = (options.rounds + 1) * options.cyclesPerRound;
  const frames = recordInputFrames(setup, totalCycles);

  // Every configuration reads each recorded frame in place, as a processor's cores do.
  const bare = new Core(setup.flightModule, 'bare', frames[0]);
  bare.boot(setup.computer.bootInstructions);
  const untracked = new Core(FlightModule.fromFile(setup.flightModule.source, { passes: BARE_CORE_PASSES, channelMap: setup.mission.channels }), 'untracked', frames[0]);
  untracked.boot(setup.computer.bootInstructions);
  const pair = new Processor(setup.flightModule, 'pair');
  pair.boot(setup.computer.bootInstructions);
  const pairEpochs = EpochSchedule.beforeBoot(interval);
  const computer = new FlightComputer(setup.flightModule, { ...setup.computer, spare: 'hot' });
  computer.boot();
  const voters = new Processor(setup.flightModule, 'TMR', Number.POSITIVE_INFINITY, true, ['P1', 'P2', 'P3']);
  voters.boot(setup.computer.bootInstructions);
  const tmrEpochs = EpochSchedule.beforeBoot(interval);
  const tmrComputer = new FlightComputer(setup.flightModule, { ...setup.computer, redundancy: 'tmr', spare: 'none' });
  tmrComputer.boot();

  const runners: Record<keyof BenchResult['nsPerCycle'], Runner> = {
    untrackedCore: (frame) => {
      untracked.inputs = frame;
      if (untracked.step(budget).status !== 'ok') throw new Error('bench: the untracked core failed a fault-free cycle');
    },
    bare: (frame) => {
      bare.inputs = frame;
      if (bare.step(budget).status !== 'ok') throw new Error('bench: the bare core failed a fault-free cycle');
    },
    pair: (frame, cycle) => {
      // The pair alone compares outputs every cycle and its state once per epoch, as in the flight computer.
      const epoch = pairEpochs.moveToUndisturbed(cycle);
      const endOfEpoch = epoch.endsAt(cycle);
      if (pair.runCycle(frame, budget, setup.computer.compareState, endOfEpoch, endOfEpoch ? epoch.scrub() : 0).verdict !== 'agreed') {
        throw new Error('bench: the pair disagreed without faults');
      }
      if (endOfEpoch) for (const core of pair.cores) core.clearDirtyBlocks();
    },
    pairSpare: (frame, cycle) => {
      if (!computer.runCycle(cycle, frame).released) throw new Error('bench: the flight computer withheld a fault-free cycle');
    },
    tmr: (frame, cycle) => {
      // The voters alone vote on outputs every cycle and on state once per epoch, as in the flight computer.
      const epoch = tmrEpochs.moveToUndisturbed(cycle);
      const endOfEpoch = epoch.endsAt(cycle);
      const vote = voters.runCycle(frame, budget, setup.computer.compareState, endOfEpoch, endOfEpoch ? epoch.scrub() : 0);
      if (vote.verdict !== 'agreed' || vote.outvoted !== 0) throw new Error('bench: the voters disagreed without faults');
      if (endOfEpoch) for (const core of voters.cores) core.clearDirtyBlocks();
    },
    tmrComputer: (frame, cycle) => {
      if (!tmrComputer.runCycle(cycle, frame).released) throw new Error('bench: the TMR flight computer withheld a fault-free cycle');
    },
  };
  const nsPerCycle = timeInterleaved(runners, frames, options);
  return {
    fsw: setup.flightModule.source,
    checkpointInterval: interval,
    rounds: options.rounds,
    cyclesPerRound: options.cyclesPerRound,
    nsPerCycle,
    ratios: {
      pairVsBare: nsPerCycle.pair / nsPerCycle.bare,
      pairSpareVsBare: nsPerCycle.pairSpare / nsPerCycle.bare,
      tmrVsBare: nsPerCycle.tmr / nsPerCycle.bare,
      tmrComputerVsBare: nsPerCycle.tmrComputer / nsPerCycle.bare,
      bareVsUntracked: nsPerCycle.bare / nsPerCycle.untrackedCore,
      pairSpareVsUntracked: nsPerCycle.pairSpare / nsPerCycle.untrackedCore,
    },
    node: process.version,
  };
}

export function formatBench(result: BenchResult): string {
  const ns = result.nsPerCycle;
  return [
    `lockstep bench — ${result.rounds} rounds × ${result.cyclesPerRound} cycles each, medians, ${result.node}; state compared and committed every ${result.checkpointInterval} cycles`,
    `  bare core                       ${(ns.bare / 1000).toFixed(2)} µs/cycle`,
    `  lock-step pair                  ${(ns.pair / 1000).toFixed(2)} µs/cycle   ${result.ratios.pairVsBare.toFixed(2)}× bare`,
    `  pair + checkpoint + hot spare   ${(ns.pairSpare / 1000).toFixed(2)} µs/cycle   ${result.ratios.pairSpareVsBare.toFixed(2)}× bare`,
    `  TMR: three cores voting         ${(ns.tmr / 1000).toFixed(2)} µs/cycle   ${result.ratios.tmrVsBare.toFixed(2)}× bare (aim ≤ 3.4×)`,
    `  TMR + checkpoint (no spare)     ${(ns.tmrComputer / 1000).toFixed(2)} µs/cycle   ${result.ratios.tmrComputerVsBare.toFixed(2)}× bare`,
    `  (core without dirty tracking    ${(ns.untrackedCore / 1000).toFixed(2)} µs/cycle: tracking costs ${((result.ratios.bareVsUntracked - 1) * 100).toFixed(0)}% per core; pair + spare ${result.ratios.pairSpareVsUntracked.toFixed(2)}× it)`,
  ].join('\n');
}
