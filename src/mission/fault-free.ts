// Flight software that fails with no upset at all — init traps or overruns its budget, a fault-free cycle
// traps, overruns the watchdog, fails a software check or aborts, the fault-free flight computer detects something
// or misses a deadline — is a mistake of the flight software, not an outcome of an upset. One rule, worded
// here, for every command that flies it: `fly` refuses it before its faulty run, a campaign at its golden
// run, `bench` before measuring (all FlightSoftwareError, exit 6), `inspect` lists it as a problem (exit 4).
import { INPUT_CHANNELS, OUTPUT_CHANNELS } from '../abi/channels.js';
import { Core, type CycleResult } from '../core/core.js';
import { describeAbort, type AbortReport } from '../abi/abort.js';
import type { TrapKind } from '../core/traps.js';
import { createSpacecraft } from '../plant/spacecraft.js';
import { FlightSoftwareError, simulate, type FlightSetup, type RunResult, type SimulateOptions } from './fly.js';

/** How and where a fault-free flight failed. */
export interface FaultFreeFailure {
  /** The control cycle that failed; null: init. */
  readonly cycle: number | null;
  readonly cause: 'trap' | 'watchdog' | 'check' | 'abort' | 'mismatch' | 'missed-deadline';
  readonly trap?: TrapKind | null;
  /** What the software's abort said. */
  readonly abort?: AbortReport | null;
  /** The instruction budget init or the cycle ran under (what the watchdog enforced). */
  readonly budget?: number;
}

export function describeFaultFreeFailure(failure: FaultFreeFailure): string {
  const what = failure.cycle === null ? 'init' : `cycle ${failure.cycle} of a fault-free flight`;
  switch (failure.cause) {
    case 'trap':
      return `${what} traps${failure.trap ? ` (${failure.trap})` : ''}`;
    case 'watchdog':
      return `${what} exceeds the ${failure.cycle === null ? 'boot' : 'watchdog'} budget${failure.budget !== undefined ? ` of ${failure.budget} instructions` : ''}`;
    case 'check':
      return `${what} fails one of the module's own software checks`;
    case 'abort':
      return `${what} aborts${failure.abort ? ` (${describeAbort(failure.abort)})` : ''}`;
    case 'mismatch':
      return `${what}: the two cores of a processor disagree (the software's results depend on more than its state and inputs)`;
    case 'missed-deadline':
      return `${what} misses its deadline (no commands released within the control period)`;
  }
}

/** The one line after the module's name: `x.wasm: fails with no upset: cycle 3 of a fault-free flight traps (out-of-bounds)`. */
export function faultFreeFailureText(failure: FaultFreeFailure): string {
  return `fails with no upset: ${describeFaultFreeFailure(failure)}`;
}

export function flightSoftwareFails(source: string, failure: FaultFreeFailure): FlightSoftwareError {
  return new FlightSoftwareError(`${source}: ${faultFreeFailureText(failure)}`);
}

/** How one core's fault-free run (init: cycle null) failed, or null when it completed. */
export function coreFailure(result: CycleResult, cycle: number | null, budget: number): FaultFreeFailure | null {
  if (result.status === 'ok') return null;
  return { cycle, cause: result.status, trap: result.trap, ...(result.abort ? { abort: result.abort } : {}), budget };
}

/** Throws the flight software's failure when one core's fault-free run (init: cycle null) did not complete. */
export function assertCoreCompleted(source: string, result: CycleResult, cycle: number | null, budget: number): void {
  const failure = coreFailure(result, cycle, budget);
  if (failure) throw flightSoftwareFails(source, failure);
}

/**
 * Flies one core of the setup's flight software fault-free in closed loop with the spacecraft: init, then
 * `cycles` cycles under the watchdog budget (and the memory limit). `onCycle` sees each completed cycle,
 * with its input frame. Returns the first failure, or null.
 */
export function flyOneCore(
  setup: FlightSetup,
  cycles: number,
  onCycle?: (cycle: number, inputs: Float64Array, result: CycleResult) => void,
  onBoot?: (core: Core) => void,
): FaultFreeFailure | null {
  const { computer, scenario } = setup;
  const inputs = new Float64Array(INPUT_CHANNELS.length);
  const core = new Core(setup.flightModule, 'fault-free', inputs, computer.memoryLimitBytes);
  const boot = coreFailure(core.boot(computer.bootInstructions), null, computer.bootInstructions);
  if (boot) return boot;
  onBoot?.(core);
  const spacecraft = createSpacecraft(scenario, setup.mission.seed);
  const applied = new Float64Array(OUTPUT_CHANNELS.length);
  for (let cycle = 0; cycle < cycles; cycle++) {
    spacecraft.sense(cycle * scenario.controlPeriod, inputs);
    const result = core.step(computer.watchdogInstructions);
    const failure = coreFailure(result, cycle, computer.watchdogInstructions);
    if (failure) return failure;
    onCycle?.(cycle, inputs, result);
    for (let channel = 0; channel < applied.length; channel++) {
      if (core.outputs.writtenMask & (1 << channel)) applied[channel] = core.outputs.values[channel];
    }
    spacecraft.actuate(applied);
    spacecraft.advance();
  }
  return null;
}

/** Thrown out of `simulate` to stop a fault-free run at its first failure. */
class FaultFreeStop extends Error {}

/**
 * The fault-free reference run of `fly`: the flight computer flying the mission with no upset. Any
 * detection (trap, watchdog, mismatch, check, abort) or missed deadline in it means that the flight software fails
 * on its own: the run stops there and a FlightSoftwareError names the failure — as one core flying the same
 * cycles shows it (the trap's kind, the budget), or as the flight computer saw it when one core does not.
 */
export function simulateFaultFree(setup: FlightSetup, onProgress?: SimulateOptions['onProgress']): RunResult {
  let stopped = null as FaultFreeFailure | null;
  try {
    return simulate(setup, {
      upsets: [],
      oracle: false,
      onProgress,
      onTelemetry: (row) => {
        if (!row.detection && !row.missedDeadline) return;
        // `detection` lists "processor:cause" per detection; the first is the primary's.
        const cause = row.detection ? (row.detection.split(' ')[0].split(':')[1] as FaultFreeFailure['cause']) : 'missed-deadline';
        stopped = { cycle: row.cycle, cause, budget: setup.computer.watchdogInstructions };
        throw new FaultFreeStop();
      },
    });
  } catch (error) {
    // simulate throws a FlightSoftwareError of its own when init fails on the primary.
    if (!(error instanceof FaultFreeStop || error instanceof FlightSoftwareError)) throw error;
    const failure = flyOneCore(setup, stopped ? stopped.cycle! + 1 : 0) ?? stopped;
    if (!failure) throw error;
    throw flightSoftwareFails(setup.flightModule.source, failure);
  }
}
