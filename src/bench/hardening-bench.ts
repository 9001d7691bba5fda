// The runtime cost of software hardening, measured side by side in one run: one core of the plain build
// and one of each named hardening (src/hardenings.ts: SWIFT, the paper's SWIFT copying its loads, SWIFT
// reading bus inputs twice, EDDI), each prepared with the core passes as the flight computer's cores
// are, replaying the same recorded frames interleaved (bench/interleaved.ts). The goals: SWIFT at most
// 1.6× the plain build, EDDI at most 2.0×. The flight software is the bench's; the four kernels (build/kernels/) are timed the same way, so
// that the figures compare with COAST's per-benchmark ones.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Core } from '../core/core.js';
import { FlightModule } from '../core/flight-module.js';
import { hardenModule } from '../harden.js';
import { HARDENINGS, HARDENING_NAMES, type HardeningName } from '../hardenings.js';
import { parseMission } from '../mission/config.js';
import { prepareFlight, type FlightSetup } from '../mission/fly.js';
import { recordInputFrames, type BenchOptions } from './bench.js';
import { timeInterleaved } from './interleaved.js';

export const KERNELS = ['matmul', 'crc32', 'quicksort', 'sha256'] as const;
export type Kernel = (typeof KERNELS)[number];
export const kernelPath = (kernel: Kernel) => fileURLToPath(new URL(`../../build/kernels/${kernel}.wasm`, import.meta.url));

type Build = 'plain' | HardeningName;
/** The bench's names: the JSON keys are camel case (swiftCopy, ratios.swiftCopyVsPlain). */
const KEY: Record<Build, 'plain' | 'swift' | 'swiftCopy' | 'swiftBus' | 'eddi'> = { plain: 'plain', swift: 'swift', 'swift-copy': 'swiftCopy', 'swift-bus': 'swiftBus', eddi: 'eddi' };

export interface HardeningBenchResult {
  nsPerCycle: { plain: number; swift: number; swiftCopy: number; swiftBus: number; eddi: number };
  ratios: { swiftVsPlain: number; swiftCopyVsPlain: number; swiftBusVsPlain: number; eddiVsPlain: number };
}

export function benchHardening(setup: FlightSetup, options: BenchOptions): HardeningBenchResult {
  const budget = setup.computer.watchdogInstructions;
  const frames = recordInputFrames(setup, (options.rounds + 1) * options.cyclesPerRound);
  const source = setup.flightModule.source;
  const bytes = readFileSync(source);
  const moduleOptions = { channelMap: setup.mission.channels, memoryLimitPages: setup.mission.memoryLimitPages };
  const cores = { plain: new Core(setup.flightModule, 'plain', frames[0]) } as Record<Build, Core>;
  for (const name of HARDENING_NAMES) {
    const hardened = hardenModule(bytes, { ...HARDENINGS[name], source }).binary;
    cores[name] = new Core(FlightModule.fromBytes(hardened, `${source} (${name})`, moduleOptions), name, frames[0]);
  }
  for (const core of Object.values(cores)) core.boot(setup.computer.bootInstructions);
  const runner = (core: Core) => (frame: Float64Array) => {
    core.inputs = frame;
    if (core.step(budget).status !== 'ok') throw new Error(`hardening bench: the ${core.name} core failed a fault-free cycle`);
  };
  const ns = timeInterleaved(
    Object.fromEntries(Object.entries(cores).map(([name, core]) => [KEY[name as Build], runner(core)])) as Record<(typeof KEY)[Build], (frame: Float64Array) => void>,
    frames,
    options,
  );
  // Hardening must not change what the software computes.
  for (const name of HARDENING_NAMES) {
    if (!cores[name].outputs.sameAs(cores.plain.outputs)) throw new Error(`hardening bench: the ${name} build's outputs differ from the plain build's`);
  }
  return {
    nsPerCycle: ns,
    ratios: { swiftVsPlain: ns.swift / ns.plain, swiftCopyVsPlain: ns.swiftCopy / ns.plain, swiftBusVsPlain: ns.swiftBus / ns.plain, eddiVsPlain: ns.eddi / ns.plain },
  };
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
  const kernelLines = Object.entries(kernels).map(
    ([kernel, figures]) =>
      `  ${kernel.padEnd(10)} plain ${us(figures.nsPerCycle.plain)}; SWIFT ${figures.ratios.swiftVsPlain.toFixed(2)}×, SWIFT copying loads ${figures.ratios.swiftCopyVsPlain.toFixed(2)}×, SWIFT reading inputs twice ${figures.ratios.swiftBusVsPlain.toFixed(2)}×, EDDI ${figures.ratios.eddiVsPlain.toFixed(2)}×`,
  );
  return [
    `hardening — one core, side by side`,
    `  plain build                     ${us(result.nsPerCycle.plain)}`,
    `  SWIFT build                     ${us(result.nsPerCycle.swift)}   ${result.ratios.swiftVsPlain.toFixed(2)}× plain (goal ≤ 1.6×)`,
    `  SWIFT copying loads (paper's)   ${us(result.nsPerCycle.swiftCopy)}   ${result.ratios.swiftCopyVsPlain.toFixed(2)}× plain`,
    `  SWIFT reading inputs twice      ${us(result.nsPerCycle.swiftBus)}   ${result.ratios.swiftBusVsPlain.toFixed(2)}× plain`,
    `  EDDI build                      ${us(result.nsPerCycle.eddi)}   ${result.ratios.eddiVsPlain.toFixed(2)}× plain (goal ≤ 2.0×)`,
    ...(kernelLines.length > 0 ? ['  kernels:', ...kernelLines] : []),
  ].join('\n');
}
