// The runtime cost of software hardening, measured side by side in one run: one core of the plain build,
// one of the SWIFT build, one of SWIFT reloading its loads, and one of the EDDI build (each prepared with
// the core passes, as the flight computer's cores are), replaying the same recorded frames interleaved
// (bench/interleaved.ts). The goals: SWIFT at most 1.6× the plain build, EDDI at most 2.0×.
import { readFileSync } from 'node:fs';
import { Core } from '../core/core.js';
import { FlightModule } from '../core/flight-module.js';
import { hardenModule } from '../harden.js';
import type { FlightSetup } from '../mission/fly.js';
import { recordInputFrames, type BenchOptions } from './bench.js';
import { timeInterleaved } from './interleaved.js';

export interface HardeningBenchResult {
  nsPerCycle: { plain: number; swift: number; eddi: number; swiftReload: number };
  ratios: { swiftVsPlain: number; eddiVsPlain: number; swiftReloadVsPlain: number };
}

export function benchHardening(setup: FlightSetup, options: BenchOptions): HardeningBenchResult {
  const budget = setup.computer.watchdogInstructions;
  const frames = recordInputFrames(setup, (options.rounds + 1) * options.cyclesPerRound);
  const source = setup.flightModule.source;
  const bytes = readFileSync(source);
  const moduleOptions = { channelMap: setup.mission.channels, memoryLimitPages: setup.mission.memoryLimitPages };
  const cores = {
    plain: new Core(setup.flightModule, 'plain', frames[0]),
    swift: new Core(FlightModule.fromBytes(hardenModule(bytes, { mode: 'swift', source }).binary, `${source} (swift)`, moduleOptions), 'swift', frames[0]),
    eddi: new Core(FlightModule.fromBytes(hardenModule(bytes, { mode: 'eddi', source }).binary, `${source} (eddi)`, moduleOptions), 'eddi', frames[0]),
    swiftReload: new Core(
      FlightModule.fromBytes(hardenModule(bytes, { mode: 'swift', reloads: true, source }).binary, `${source} (swift, reloading)`, moduleOptions),
      'swift-reload',
      frames[0],
    ),
  };
  for (const core of Object.values(cores)) core.boot(setup.computer.bootInstructions);
  const runner = (core: Core) => (frame: Float64Array) => {
    core.inputs = frame;
    if (core.step(budget).status !== 'ok') throw new Error(`hardening bench: the ${core.name} core failed a fault-free cycle`);
  };
  const nsPerCycle = timeInterleaved(
    { plain: runner(cores.plain), swift: runner(cores.swift), eddi: runner(cores.eddi), swiftReload: runner(cores.swiftReload) },
    frames,
    options,
  );
  // Hardening must not change what the software computes.
  for (const name of ['swift', 'eddi', 'swiftReload'] as const) {
    if (!cores[name].outputs.sameAs(cores.plain.outputs)) throw new Error(`hardening bench: the ${name} build's outputs differ from the plain build's`);
  }
  return {
    nsPerCycle,
    ratios: {
      swiftVsPlain: nsPerCycle.swift / nsPerCycle.plain,
      eddiVsPlain: nsPerCycle.eddi / nsPerCycle.plain,
      swiftReloadVsPlain: nsPerCycle.swiftReload / nsPerCycle.plain,
    },
  };
}

export function formatHardeningBench(result: HardeningBenchResult): string {
  const us = (ns: number) => `${(ns / 1000).toFixed(2)} µs/cycle`;
  return [
    `hardening — one core, side by side`,
    `  plain build                     ${us(result.nsPerCycle.plain)}`,
    `  SWIFT build                     ${us(result.nsPerCycle.swift)}   ${result.ratios.swiftVsPlain.toFixed(2)}× plain (goal ≤ 1.6×)`,
    `  EDDI build                      ${us(result.nsPerCycle.eddi)}   ${result.ratios.eddiVsPlain.toFixed(2)}× plain (goal ≤ 2.0×)`,
    `  SWIFT reloading loads           ${us(result.nsPerCycle.swiftReload)}   ${result.ratios.swiftReloadVsPlain.toFixed(2)}× plain`,
  ].join('\n');
}
