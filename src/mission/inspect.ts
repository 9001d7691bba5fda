// A flight-software module checked against the ABI and flown fault-free by one core on a mission's first
// cycles: what `lockstep inspect` prints and the library's `inspect()` returns. A module that conforms but
// fails with no upset gets that failure among its problems.
import { readFileSync } from 'node:fs';
import { inspectModule, type ModuleReport } from '../abi/contract.js';
import { FlightModule } from '../core/flight-module.js';
import { ModuleError, PROFILE_PASSES } from '../passes/index.js';
import { PROFILE_PREFIX } from '../passes/profile-functions.js';
import type { Core } from '../core/core.js';
import type { Mission } from './config.js';
import { describeFaultFreeFailure, faultFreeFailureText, flyOneCore } from './fault-free.js';
import { prepareFlight } from './fly.js';

export interface CycleCost {
  cycles: number;
  meanInstructions: number;
  maxInstructions: number;
}

/** One function's share of the cycles flown: the instructions of its own code (callees not included). */
export interface FunctionProfile {
  name: string;
  /** Instructions per cycle, on average and at most, over the cycles flown. */
  meanPerCycle: number;
  maxPerCycle: number;
  total: number;
  /** Of every instruction of the cycles flown. */
  share: number;
}

export interface InspectResult extends ModuleReport {
  conforms: boolean;
  cycleCost: CycleCost | null;
  /** With `profile`: dynamic instructions per function per cycle, most first (they add up to cycleCost's). */
  profile?: { cycles: number; functions: FunctionProfile[] };
}

/**
 * Inspects the module in `file` under `mission`'s channel map and memory limit, flying `cycles` cycles.
 * `failureText` says how it fails with no upset, when it does.
 */
export function inspectFlightModule(file: string, mission: Mission, cycles: number, options: { profile?: boolean } = {}): { result: InspectResult; failureText: string | null } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new ModuleError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return inspectFlightBytes(bytes, file, mission, cycles, options);
}

/** inspectFlightModule on a module in memory (a build not written to a file); `file` names it. */
export function inspectFlightBytes(bytes: Uint8Array, file: string, mission: Mission, cycles: number, options: { profile?: boolean } = {}): { result: InspectResult; failureText: string | null } {
  const report = inspectModule(bytes, file, { channelMap: mission.channels, memoryLimitPages: mission.memoryLimitPages });
  const problems = [...report.problems];
  let cycleCost: CycleCost | null = null;
  let failureText: string | null = null;
  let profile: InspectResult['profile'];
  if (problems.length === 0) {
    // The profile build charges the same instructions as a core (profile-functions.ts): the costs are a core's.
    const passes = options.profile ? PROFILE_PASSES : undefined;
    const module = FlightModule.fromBytes(bytes, file, { channelMap: mission.channels, memoryLimitPages: mission.memoryLimitPages, passes });
    const setup = prepareFlight({ ...mission, upsets: { ...mission.upsets, count: 0 } }, module);
    // Instructions per cycle of one core flying the mission's first cycles in closed loop.
    let flown = 0;
    let total = 0;
    let max = 0;
    let counters: Array<{ name: string; global: WebAssembly.Global; total: number; max: number }> = [];
    const failure = flyOneCore(
      setup,
      cycles,
      (_cycle, _inputs, result) => {
        flown++;
        total += result.instructions;
        max = Math.max(max, result.instructions);
        for (const counter of counters) {
          const count = (counter.global.value as number) >>> 0;
          counter.total += count;
          counter.max = Math.max(counter.max, count);
          counter.global.value = 0;
        }
      },
      options.profile ? (core) => (counters = profileCounters(core)) : undefined,
    );
    if (flown > 0) cycleCost = { cycles: flown, meanInstructions: Math.round(total / flown), maxInstructions: max };
    if (options.profile && flown > 0) {
      const functions = counters
        .filter((counter) => counter.total > 0)
        .map((counter) => ({ name: counter.name, meanPerCycle: counter.total / flown, maxPerCycle: counter.max, total: counter.total, share: total > 0 ? counter.total / total : 0 }))
        .sort((a, b) => b.total - a.total || a.name.localeCompare(b.name));
      profile = { cycles: flown, functions };
    }
    if (failure) {
      problems.push(describeFaultFreeFailure(failure));
      failureText = faultFreeFailureText(failure);
    }
  }
  return { result: { ...report, problems, conforms: problems.length === 0, cycleCost, ...(profile ? { profile } : {}) }, failureText };
}

/** A profile build's per-function counters, zeroed (what init counted is not a cycle's). */
function profileCounters(core: Core): Array<{ name: string; global: WebAssembly.Global; total: number; max: number }> {
  return WebAssembly.Module.exports(core.flightModule.compiled)
    .filter((entry) => entry.kind === 'global' && entry.name.startsWith(PROFILE_PREFIX))
    .map((entry) => {
      const global = core.exportedGlobal(entry.name);
      global.value = 0;
      return { name: entry.name.slice(PROFILE_PREFIX.length), global, total: 0, max: 0 };
    });
}
