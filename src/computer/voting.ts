// Triple modular redundancy's part of the flight computer: the group of three voting cores (P1, P2, P3,
// each a processor of one core in the hardware), what an outvote is reported as, and how an outvoted core
// is brought back — from the majority's state, after the majority's commands are out, so no cycle is
// lost or rolled back. The decisions (resync, replace by the spare's core, or fly on as a pair) are the
// controller table's (src/spare/controller.ts, state `voting`); these are the steps they take.
import type { Core } from '../core/core.js';
import type { FlightModule } from '../core/flight-module.js';
import { copyState } from '../core/state.js';
import { Processor, type ProcessorCycle } from '../processor/processor.js';
import { repairFromMajority } from '../processor/voter.js';
import type { Detection } from './cycle-work.js';

/** The voting cores' names: each is a processor of the hardware. */
export const VOTER_NAMES = ['P1', 'P2', 'P3'] as const;
/** The spare of a TMR computer: one core, which takes a failed voter's place. */
export const TMR_SPARE_NAME = 'P4';

export function votingGroup(flightModule: FlightModule, memoryLimitBytes: number): Processor {
  return new Processor(flightModule, 'TMR', memoryLimitBytes, true, VOTER_NAMES);
}

export function tmrSpare(flightModule: FlightModule, memoryLimitBytes: number): Processor {
  return new Processor(flightModule, TMR_SPARE_NAME, memoryLimitBytes, false, [TMR_SPARE_NAME]);
}

/** Each outvoted core's detection, in the comparator's terms: how it stopped, or what differed from the majority. */
export function outvotedDetections(group: Processor, cycle: ProcessorCycle): Detection[] {
  const detections: Detection[] = [];
  group.cores.forEach((core, index) => {
    if (((cycle.outvoted >>> index) & 1) === 0) return;
    const result = core.result;
    if (result.status !== 'ok') detections.push({ processor: core.name, cause: result.status, mismatch: null, trap: result.trap, abort: result.abort });
    // Outvoted whole with its outputs agreeing: its persistent region differed, which is state (as the comparator says).
    else detections.push({ processor: core.name, cause: 'mismatch', mismatch: ((cycle.outvotedWhole >>> index) & 1) !== 0 && !core.outputs.sameAs(group.outputs) ? 'outputs' : 'state', trap: null, abort: null });
  });
  return detections;
}

/**
 * The outvoted cores take the majority's state: block by block where the state vote outvoted them, whole
 * where their outputs were (a stuck bit holds on, and is outvoted again). Returns the cores resynchronised.
 */
export function resyncFromMajority(group: Processor, outvoted: number, outvotedWhole: number, repairs: readonly number[], byteRepairs: readonly number[]): Core[] {
  const cores = group.cores;
  repairFromMajority(cores, repairs, byteRepairs);
  const resynced: Core[] = [];
  cores.forEach((core, index) => {
    if (((outvoted >>> index) & 1) === 0) return;
    if (((outvotedWhole >>> index) & 1) !== 0) copyState(group.majority, core);
    core.holdAfflictions();
    resynced.push(core);
  });
  return resynced;
}

/** The spare's core takes a failed voter's place, with the majority's state. */
export function replaceVoter(group: Processor, index: number, spare: Processor): void {
  const core = spare.cores[0];
  copyState(group.majority, core);
  core.holdAfflictions();
  group.replaceCore(index, core);
}
