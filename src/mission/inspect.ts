// A flight-software module checked against the ABI and flown fault-free by one core on a mission's first
// cycles: what `lockstep inspect` prints and the library's `inspect()` returns. A module that conforms but
// fails with no upset gets that failure among its problems.
import { readFileSync } from 'node:fs';
import { inspectModule, type ModuleReport } from '../abi/contract.js';
import { FlightModule } from '../core/flight-module.js';
import { ModuleError } from '../passes/index.js';
import type { Mission } from './config.js';
import { describeFaultFreeFailure, faultFreeFailureText, flyOneCore } from './fault-free.js';
import { prepareFlight } from './fly.js';

export interface CycleCost {
  cycles: number;
  meanInstructions: number;
  maxInstructions: number;
}

export interface InspectResult extends ModuleReport {
  conforms: boolean;
  cycleCost: CycleCost | null;
}

/**
 * Inspects the module in `file` under `mission`'s channel map and memory limit, flying `cycles` cycles.
 * `failureText` says how it fails with no upset, when it does.
 */
export function inspectFlightModule(file: string, mission: Mission, cycles: number): { result: InspectResult; failureText: string | null } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new ModuleError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const report = inspectModule(bytes, file, { channelMap: mission.channels, memoryLimitPages: mission.memoryLimitPages });
  const problems = [...report.problems];
  let cycleCost: CycleCost | null = null;
  let failureText: string | null = null;
  if (problems.length === 0) {
    const module = FlightModule.fromBytes(bytes, file, { channelMap: mission.channels, memoryLimitPages: mission.memoryLimitPages });
    const setup = prepareFlight({ ...mission, upsets: { ...mission.upsets, count: 0 } }, module);
    // Instructions per cycle of one core flying the mission's first cycles in closed loop.
    let flown = 0;
    let total = 0;
    let max = 0;
    const failure = flyOneCore(setup, cycles, (_cycle, _inputs, result) => {
      flown++;
      total += result.instructions;
      max = Math.max(max, result.instructions);
    });
    if (flown > 0) cycleCost = { cycles: flown, meanInstructions: Math.round(total / flown), maxInstructions: max };
    if (failure) {
      problems.push(describeFaultFreeFailure(failure));
      failureText = faultFreeFailureText(failure);
    }
  }
  return { result: { ...report, problems, conforms: problems.length === 0, cycleCost }, failureText };
}
