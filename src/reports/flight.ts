// A whole `fly`: the fault-free reference, the faulty run with its oracle, and the summary with the
// requirements judged. What the `fly` command and the library's `fly()` both call.
import { simulateFaultFree } from '../mission/fault-free.js';
import { simulate, type FlightSetup, type TelemetryRow } from '../mission/fly.js';
import { summarizeFlight, type FlySummary } from './flight-summary.js';
import type { FlightGateOptions } from './requirements.js';

export interface FlyMissionOptions extends FlightGateOptions {
  /** Called as the cycles are flown: first those of the fault-free reference, then the faulty run's. */
  readonly onProgress?: (phase: 'fault-free' | 'faulty', cycle: number, cycles: number) => void;
  readonly onTelemetry?: (row: TelemetryRow) => void;
  /** Pace the faulty run on the wall clock (simulated seconds per second). */
  readonly realTimeFactor?: number;
}

/** Flies `setup` twice from its seed, without and with its upsets; software failing with no upset throws FlightSoftwareError. */
export function flyMission(setup: FlightSetup, options: FlyMissionOptions = {}): FlySummary {
  // Flight software that fails with no upset is refused here, before the faulty run.
  const faultFree = simulateFaultFree(setup, (cycle, cycles) => options.onProgress?.('fault-free', cycle, cycles));
  const run = simulate(setup, {
    upsets: setup.upsets,
    oracle: true,
    onProgress: (cycle, cycles) => options.onProgress?.('faulty', cycle, cycles),
    onTelemetry: options.onTelemetry,
    realTimeFactor: options.realTimeFactor,
  });
  return summarizeFlight(setup, run, faultFree, { maxMissed: options.maxMissed, waive: options.waive });
}
