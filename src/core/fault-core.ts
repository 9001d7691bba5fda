// The host side of the fault-hooks pass (src/passes/fault-hooks.ts): arm a flip of the n-th
// value-producing instruction or of the n-th branch decision of a core built with FAULT_HOOK_PASSES,
// disarm it, and read or reset the counters. Arm and read between runs (between `step` calls), never
// from inside one. A golden run resets the counters, runs a cycle and reads how many sites it executed
// (the range of n); a faulty run restores the state, resets, arms n and runs the same cycle; `fired`
// then says whether and where the flip happened (when both a result and a branch flip fire in one run,
// the later one). The counters wrap modulo 2^32, so per-cycle counts can also be taken as differences
// of successive reads, which saves the resets: each access to a WebAssembly.Global from JavaScript costs
// tens of nanoseconds, a noticeable part of a cycle of light flight software.
import {
  BRANCH_COUNT_GLOBAL,
  BRANCH_COUNTDOWN_GLOBAL,
  FAULT_FIRED_GLOBAL,
  FAULT_MASK_GLOBAL,
  RESULT_COUNT_GLOBAL,
  RESULT_COUNTDOWN_GLOBAL,
  type FaultHooksReport,
} from '../passes/fault-hooks.js';
import { FAULT_HOOK_PASSES, transformBinary } from '../passes/index.js';
import type { Core } from './core.js';
import { FlightModule, type FlightModuleOptions } from './flight-module.js';

/** The largest n a countdown can name (it holds n + 1 in an i32). */
export const MAX_FAULT_INDEX = 2 ** 31 - 2;

export interface FaultCounters {
  /** Value-producing instructions executed since the counters were last reset (mod 2^32). */
  results: number;
  /** Branch decisions executed since the counters were last reset (mod 2^32). */
  branches: number;
  /** The id of the site that flipped (the pass report's `sites`), or null when none did. */
  fired: number | null;
}

interface FaultGlobals {
  readonly resultCountdown: WebAssembly.Global;
  readonly branchCountdown: WebAssembly.Global;
  readonly mask: WebAssembly.Global;
  readonly results: WebAssembly.Global;
  readonly branches: WebAssembly.Global;
  readonly fired: WebAssembly.Global;
}

const cache = new WeakMap<Core, FaultGlobals>();

function globalsOf(core: Core): FaultGlobals {
  let globals = cache.get(core);
  if (!globals) {
    if (!hasFaultHooks(core)) throw new Error(`core ${core.name}: its module was not prepared with the fault-hooks pass (FAULT_HOOK_PASSES)`);
    globals = {
      resultCountdown: core.exportedGlobal(RESULT_COUNTDOWN_GLOBAL),
      branchCountdown: core.exportedGlobal(BRANCH_COUNTDOWN_GLOBAL),
      mask: core.exportedGlobal(FAULT_MASK_GLOBAL),
      results: core.exportedGlobal(RESULT_COUNT_GLOBAL),
      branches: core.exportedGlobal(BRANCH_COUNT_GLOBAL),
      fired: core.exportedGlobal(FAULT_FIRED_GLOBAL),
    };
    cache.set(core, globals);
  }
  return globals;
}

// Listing a module's exports builds a fresh array each time: asked once per compiled module, not per strike.
const hooked = new WeakMap<WebAssembly.Module, boolean>();

/** Whether the core's module has the fault hooks. */
export function hasFaultHooks(core: Core): boolean {
  const compiled = core.flightModule.compiled;
  let answer = hooked.get(compiled);
  if (answer === undefined) {
    answer = WebAssembly.Module.exports(compiled).some((entry) => entry.name === RESULT_COUNTDOWN_GLOBAL && entry.kind === 'global');
    hooked.set(compiled, answer);
  }
  return answer;
}

function checkIndex(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_FAULT_INDEX) throw new RangeError(`fault index ${n} outside 0..${MAX_FAULT_INDEX}`);
}

/**
 * Arms a flip of the n-th (0-based) value-producing instruction the core executes from now on: its result
 * is XOR-ed with `mask` (an i32 or f32 result with the mask's two halves XOR-ed together, so that bit b
 * of the mask flips bit b mod 32; floats through their bit pattern).
 */
export function armResultFlip(core: Core, n: number, mask: bigint): void {
  checkIndex(n);
  const globals = globalsOf(core);
  globals.mask.value = BigInt.asIntN(64, mask);
  globals.resultCountdown.value = n + 1;
}

/**
 * Arms an inversion of the n-th (0-based) branch decision the core executes from now on: an if, br_if or
 * select condition c becomes c == 0; a br_table index has bit `tableBit` flipped. `tableBit` sets bits
 * 0-4 of the shared fault mask, so give it after `armResultFlip` when arming both (it keeps the other bits).
 */
export function armBranchFlip(core: Core, n: number, tableBit = 0): void {
  checkIndex(n);
  if (!Number.isInteger(tableBit) || tableBit < 0 || tableBit > 31) throw new RangeError(`br_table index bit ${tableBit} outside 0..31`);
  const globals = globalsOf(core);
  globals.mask.value = BigInt.asIntN(64, ((globals.mask.value as bigint) & ~31n) | BigInt(tableBit));
  globals.branchCountdown.value = n + 1;
}

/** Disarms both countdowns (a flip that has not happened yet will not). */
export function disarm(core: Core): void {
  const globals = globalsOf(core);
  globals.resultCountdown.value = 0;
  globals.branchCountdown.value = 0;
}

/** The counters since the last reset, and which site flipped. */
export function readFaultCounters(core: Core): FaultCounters {
  const globals = globalsOf(core);
  const fired = globals.fired.value as number;
  return { results: (globals.results.value as number) >>> 0, branches: (globals.branches.value as number) >>> 0, fired: fired === 0 ? null : fired - 1 };
}

/** Zeroes the counts and the fired record (not the countdowns). */
export function resetFaultCounters(core: Core): void {
  const globals = globalsOf(core);
  globals.results.value = 0;
  globals.branches.value = 0;
  globals.fired.value = 0;
}

/** Whether a countdown is still armed (positive): the flip it names has not happened yet. */
export function faultArmed(core: Core): boolean {
  const globals = globalsOf(core);
  return (globals.resultCountdown.value as number) > 0 || (globals.branchCountdown.value as number) > 0;
}

/**
 * Prepares a module with FAULT_HOOK_PASSES (or `passes`, which must end with 'fault-hooks') and returns
 * it with the pass report, whose `sites` name what `fired` ids mean. The report comes from a second run
 * of the passes (they are deterministic), since a FlightModule keeps only the reports cores need.
 */
export function prepareFaultModule(
  bytes: Uint8Array,
  source: string,
  options: FlightModuleOptions = {},
): { flightModule: FlightModule; report: FaultHooksReport } {
  const passes = options.passes ?? FAULT_HOOK_PASSES;
  if (passes[passes.length - 1] !== 'fault-hooks') throw new Error(`prepareFaultModule: the passes must end with fault-hooks, not ${passes.join(', ')}`);
  const flightModule = FlightModule.fromBytes(bytes, source, { ...options, passes });
  const report = transformBinary(bytes, passes, source).reports.get('fault-hooks') as FaultHooksReport;
  return { flightModule, report };
}
