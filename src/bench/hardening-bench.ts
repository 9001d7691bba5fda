// The runtime cost of software hardening, measured side by side in one run: one core of the plain build
// and one of each named hardening (src/hardenings.ts: SWIFT, the paper's SWIFT copying its loads, SWIFT
// reading bus inputs twice, EDDI), each prepared with the core passes as the flight computer's cores
// are, replaying the same recorded frames interleaved (bench/interleaved.ts), against the goals the
// table sets (SWIFT's and EDDI's). The flight software is the bench's; the four kernels (build/kernels/)
// are timed the same way, so that the figures compare with COAST's per-benchmark ones.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Core } from '../core/core.js';
import { FlightModule } from '../core/flight-module.js';
import { hardenModule } from '../harden.js';
import { HARDENINGS, HARDENING_NAMES, type Hardening, type HardeningName } from '../hardenings.js';
import { parseMission } from '../mission/config.js';
import { prepareFlight, type FlightSetup } from '../mission/fly.js';
import { recordInputFrames, type BenchOptions } from './bench.js';
import { timeInterleaved } from './interleaved.js';

export const KERNELS = ['matmul', 'crc32', 'quicksort', 'sha256'] as const;
export type Kernel = (typeof KERNELS)[number];
export const kernelPath = (kernel: Kernel) => fileURLToPath(new URL(`../../build/kernels/${kernel}.wasm`, import.meta.url));

type Build = 'plain' | HardeningName;
/** The bench's names are the builds' in camel case (swift-copy: swiftCopy, ratios.swiftCopyVsPlain). */
type CamelCase<Name extends string> = Name extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : Name;
type Key = CamelCase<Build>;
const keyOf = <Name extends Build>(name: Name): CamelCase<Name> => name.replace(/-(.)/g, (_, letter: string) => letter.toUpperCase()) as CamelCase<Name>;
const ratioKey = (name: HardeningName) => `${keyOf(name)}VsPlain` as const;

export interface HardeningBenchResult {
  nsPerCycle: Record<Key, number>;
  ratios: Record<`${CamelCase<HardeningName>}VsPlain`, number>;
}

export function benchHardening(setup: FlightSetup, options: BenchOptions): HardeningBenchResult {
  const source = setup.flightModule.source;
  const bytes = readFileSync(source);
  const builds = Object.fromEntries(HARDENING_NAMES.map((name) => [name, hardenModule(bytes, { ...HARDENINGS[name], source }).binary])) as Record<HardeningName, Uint8Array>;
  const ns = timeBuilds(setup, builds, options);
  const keyed = Object.fromEntries(Object.entries(ns).map(([name, figure]) => [keyOf(name as Build), figure])) as Record<Key, number>;
  return {
    nsPerCycle: keyed,
    ratios: Object.fromEntries(HARDENING_NAMES.map((name) => [ratioKey(name), ns[name] / ns.plain])) as HardeningBenchResult['ratios'],
  };
}

/**
 * Nanoseconds per cycle of one core of the plain build (the setup's) and one of each of `builds`, side by
 * side on the mission's recorded fault-free frames; each build must compute what the plain one does (its
 * outputs are compared at the end), or this throws.
 */
export function timeBuilds<Name extends string>(setup: FlightSetup, builds: Readonly<Record<Name, Uint8Array>>, options: BenchOptions): Record<Name | 'plain', number> {
  const budget = setup.computer.watchdogInstructions;
  const frames = recordInputFrames(setup, (options.rounds + 1) * options.cyclesPerRound);
  const source = setup.flightModule.source;
  const moduleOptions = { channelMap: setup.mission.channels, memoryLimitPages: setup.mission.memoryLimitPages };
  const cores = { plain: new Core(setup.flightModule, 'plain', frames[0]) } as Record<Name | 'plain', Core>;
  for (const name of Object.keys(builds) as Name[]) cores[name] = new Core(FlightModule.fromBytes(builds[name], `${source} (${name})`, moduleOptions), name, frames[0]);
  for (const core of Object.values<Core>(cores)) core.boot(setup.computer.bootInstructions);
  const runner = (core: Core) => (frame: Float64Array) => {
    core.inputs = frame;
    if (core.step(budget).status !== 'ok') throw new Error(`hardening bench: the ${core.name} core failed a fault-free cycle`);
  };
  const ns = timeInterleaved(Object.fromEntries(Object.entries<Core>(cores).map(([name, core]) => [name, runner(core)])) as Record<Name | 'plain', (frame: Float64Array) => void>, frames, options);
  // Hardening must not change what the software computes.
  for (const name of Object.keys(builds) as Name[]) {
    if (!cores[name].outputs.sameAs(cores.plain.outputs)) throw new Error(`hardening bench: the ${name} build's outputs differ from the plain build's`);
  }
  return ns;
}

/** The same measurement on each kernel that is built (all of them after `npm run build`). */
export function benchKernelHardening(options: BenchOptions): Partial<Record<Kernel, HardeningBenchResult>> {
  const results: Partial<Record<Kernel, HardeningBenchResult>> = {};
  for (const kernel of KERNELS) {
    if (!existsSync(kernelPath(kernel))) continue;
    const setup = prepareFlight(parseMission({ fsw: kernelPath(kernel), upsets: { count: 0 } }, 'bench'));
    results[kernel] = benchHardening(setup, options);
  }
  return results;
}

export function formatHardeningBench(result: HardeningBenchResult, kernels: Partial<Record<Kernel, HardeningBenchResult>> = {}): string {
  const us = (ns: number) => `${(ns / 1000).toFixed(2)} µs/cycle`;
  const nameWidth = Math.max(...HARDENING_NAMES.map((name) => name.length)) + 2;
  const labelWidth = Math.max(...HARDENING_NAMES.map((name) => HARDENINGS[name].label.length)) + 2;
  const kernelLines = Object.entries(kernels).map(
    ([kernel, figures]) =>
      `  ${kernel.padEnd(10)} plain ${us(figures.nsPerCycle.plain)}; ${HARDENING_NAMES.map((name) => `${name} ${figures.ratios[ratioKey(name)].toFixed(2)}×`).join(', ')}`,
  );
  return [
    `hardening — one core, side by side`,
    `  ${'plain'.padEnd(nameWidth + labelWidth)}${us(result.nsPerCycle.plain)}`,
    ...HARDENING_NAMES.map((name) => {
      const goal = (HARDENINGS[name] as Hardening).runtimeGoal;
      return `  ${name.padEnd(nameWidth)}${HARDENINGS[name].label.padEnd(labelWidth)}${us(result.nsPerCycle[keyOf(name)])}   ${result.ratios[ratioKey(name)].toFixed(2)}× plain${goal ? ` (goal ≤ ${goal.toFixed(1)}×)` : ''}`;
    }),
    ...(kernelLines.length > 0 ? ['  kernels:', ...kernelLines] : []),
  ].join('\n');
}
