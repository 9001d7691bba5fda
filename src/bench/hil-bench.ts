// The cost of flying with NASA 42 in the loop, as `lockstep bench` reports it: a 60-s hardware-in-the-loop
// flight of the reference mission against the real 42 (built from ../shared/nasa42, cached), timed where
// it goes — the flight computer's share of a step beside the bridge's (sending the commands, 42 simulating
// its step, receiving the next inputs) — and the speed of the whole loop in simulated seconds per second.
// Without 42 (no source tree, no compiler) the figure is absent, saying why.
import { existsSync } from 'node:fs';
import { flyWithNasa42, type HilWallClock } from '../hil/hil.js';
import { DEFAULT_NASA42_SOURCE } from '../hil/nasa42-build.js';
import { parseMission } from '../mission/config.js';
import { prepareFlight } from '../mission/fly.js';

export type HilBench = (HilWallClock & { readonly durationS: number }) | { readonly skipped: string };

export async function benchHil(durationS = 60): Promise<HilBench> {
  if (!existsSync(DEFAULT_NASA42_SOURCE)) return { skipped: `${DEFAULT_NASA42_SOURCE} is absent` };
  const setup = prepareFlight(parseMission({ duration: durationS, upsets: { count: 0 } }, 'bench'));
  const hil = await flyWithNasa42({ setup, nasa42: {} });
  if (hil.failure) return { skipped: `the flight with 42 failed: ${hil.failure.message}` };
  return { durationS, ...hil.wallClock };
}

export function formatHilBench(bench: HilBench): string {
  if ('skipped' in bench) return `  hil with NASA 42: skipped (${bench.skipped})`;
  return `  hil with NASA 42 (${bench.durationS} s): ${bench.realTimeFactor.toFixed(1)}× real time; per step the flight computer ${bench.flightComputerUsPerCycle.toFixed(1)} µs, the bridge (socket round trip and 42's step) ${bench.bridgeUsPerCycle.toFixed(1)} µs`;
}
