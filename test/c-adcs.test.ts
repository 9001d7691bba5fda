// The C flight program (examples/c-adcs): the committed adcs.wasm loads as flight software, flies the
// reference mission within the pointing requirement, a single-bit upset in its memory or its stack
// pointer costs nothing with a hot spare, and — where clang is installed — build.sh rebuilds the
// committed module byte for byte.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUS_MODULE, DEBUG_MODULE, INPUT_CHANNELS, OUTPUT_CHANNELS } from '../src/abi/channels.js';
import { inspectModule } from '../src/abi/contract.js';
import { BITS_OF_TYPE } from '../src/core/global-slots.js';
import { FlightModule } from '../src/core/flight-module.js';
import type { FlightSetup, RunResult } from '../src/mission/fly.js';
import type { Fault as Upset } from '../src/faults/fault.js';
import { fly, memoryUpset, newCore, outputSensitiveAddresses, probeFlight, setupFor, usedMemoryRange } from './support.js';

const EXAMPLE = fileURLToPath(new URL('../examples/c-adcs/', import.meta.url));
const WASM = join(EXAMPLE, 'adcs.wasm');
const TOOLCHAIN = join(EXAMPLE, 'toolchain.txt');
const MAX_TORQUE = 0.14;


let module: FlightModule;

describe('C flight software, examples/c-adcs/adcs.wasm', () => {
  beforeAll(() => {
    module = FlightModule.fromFile(WASM);
  });

  it('follows the ABI: imports only bus channels and debug outputs, exports init, step, memory and the persistent region, no start function', () => {
    const bytes = readFileSync(WASM);
    const compiled = new WebAssembly.Module(bytes);
    for (const { module: from, name, kind } of WebAssembly.Module.imports(compiled)) {
      expect(kind).toBe('function');
      if (from === DEBUG_MODULE) continue;
      expect(from).toBe(BUS_MODULE);
      expect([...INPUT_CHANNELS, ...OUTPUT_CHANNELS]).toContain(name);
    }
    expect(module.outputs.map(({ name }) => name).sort()).toEqual([...OUTPUT_CHANNELS].sort());
    expect(module.debugOutputs.map(({ name }) => name)).toEqual(['gyro_bias_x', 'gyro_bias_y', 'gyro_bias_z', 'star_innovation']);
    expect(WebAssembly.Module.exports(compiled).map(({ name }) => name).sort()).toEqual(['init', 'memory', 'persistent_length', 'persistent_offset', 'step']);
    expect(inspectModule(bytes, 'adcs.wasm').startFunction).toBeNull();
    // C's state beyond memory: the stack pointer, which lockstep exports so it is compared and checkpointed.
    expect(module.stateGlobals.map(({ name, type }) => `${name}: ${type}`)).toEqual(['__stack_pointer: i32']);
  });

  it('flies the reference mission: rate damping, then pointing within 0.05° after settling, nothing detected', () => {
    const setup = setupFor({}, module);
    expect(setup.cycles).toBe(6000);
    const { result, rows } = fly(setup, []);
    expect(result.detections).toEqual({ mismatch: 0, trap: 0, watchdog: 0, check: 0, abort: 0 });
    expect(result.failovers).toBe(0);
    expect(result.missedDeadlines).toBe(0);
    expect(result.undetectedDivergences).toBe(0);
    expect(result.events).toEqual([]);

    const requirement = setup.scenario.pointingRequirementDeg;
    const { max, rms, samples } = result.pointingErrorsAfterSettle;
    expect(samples).toBeGreaterThan(0);
    expect(max).toBeLessThanOrEqual(requirement);
    expect(rms).toBeLessThanOrEqual(requirement);
    // With margin: the settled error is a small fraction of the requirement (star-tracker noise is 2–20″).
    expect(max).toBeLessThan(requirement / 4);

    const modes = rows.map((row) => row.mode);
    const switchCycle = modes.indexOf(1);
    expect(modes[0]).toBe(0);
    expect(switchCycle).toBeGreaterThan(0);
    expect(switchCycle * setup.scenario.controlPeriod).toBeLessThan(60);
    expect(modes.slice(switchCycle).every((mode) => mode === 1)).toBe(true);
    expect(rows.every((row) => row.torque.every((torque) => Number.isFinite(torque) && Math.abs(torque) <= MAX_TORQUE))).toBe(true);
    // Light: far below the watchdog budget.
    expect(result.timing.maxCycleMs).toBeLessThan(1);
  });
});

describe('a single-bit upset in the C program costs nothing with a hot spare', () => {
  let setup: FlightSetup;
  let faultFree: RunResult;
  let used: { start: number; end: number };
  /** Where the C stack ends and the program's static data begin (wasm-ld --stack-first). */
  let dataStart: number;
  let memoryBytes: number;
  let sensitive: number[];

  beforeAll(() => {
    module ??= FlightModule.fromFile(WASM);
    // 60 s: rate damping, acquisition and the switch to pointing all happen within the mission.
    setup = setupFor({ duration: 60, spare: 'hot', compareState: true }, module);
    faultFree = fly(setup, []).result;
    used = usedMemoryRange(setup);
    const { core } = probeFlight(setup, 0);
    dataStart = core.globals[0].value as number;
    memoryBytes = newCore(module).memoryBytes().length;
    sensitive = outputSensitiveAddresses(setup, 100, { start: dataStart, end: used.end });
  });

  it('the fault space is sensible: stack below the static state, both within the one page', () => {
    expect(memoryBytes).toBe(65536);
    expect(dataStart).toBe(8192);
    // The stack is used (structs passed by value) and the state sits just above it.
    expect(used.start).toBeLessThan(dataStart);
    expect(used.end).toBeGreaterThan(dataStart + 64);
    expect(used.end).toBeLessThan(dataStart + 1024);
    expect(sensitive.length).toBeGreaterThan(0);
  });

  function checkNoCost(upset: Upset): RunResult {
    const { result } = fly(setup, [upset]);
    expect(result.upsetsInjected).toBe(1);
    expect(result.missedDeadlines).toBe(0);
    expect(result.undetectedDivergences).toBe(0);
    expect(result.commandDigest).toBe(faultFree.commandDigest);
    return result;
  }

  it('a flip in state the cycle reads before its commands: output mismatch, the spare\'s commands are released', () => {
    for (const core of ['A', 'B'] as const) {
      const result = checkNoCost(memoryUpset(100, core, sensitive[0], 6));
      expect(result.detections).toEqual({ mismatch: 1, trap: 0, watchdog: 0, check: 0, abort: 0 });
      expect(result.detectionsByMismatch.outputs).toBe(1);
      expect(result.failovers).toBe(1);
    }
  });

  it('a flip of the stack pointer is caught (a state mismatch, or the core traps) at no cost', () => {
    for (const bit of [3, 20, 31]) {
      const result = checkNoCost({ cycle: 100, target: 'global', processor: 'primary', core: 'B', location: 0, bit, width: 1 });
      expect(result.failovers).toBe(1);
    }
  });

  it('property: any single-bit upset in the memory the program uses, or its stack pointer, in core A or B', () => {
    const cycle = fc.integer({ min: 0, max: setup.cycles - 1 });
    const core = fc.constantFrom('A' as const, 'B' as const);
    const memory = fc
      .record({ cycle, core, address: fc.integer({ min: used.start, max: used.end - 1 }), bit: fc.integer({ min: 0, max: 7 }) })
      .map(({ cycle, core, address, bit }) => memoryUpset(cycle, core, address, bit));
    const stackPointer = fc
      .record({ cycle, core, bit: fc.integer({ min: 0, max: BITS_OF_TYPE.i32 - 1 }) })
      .map(({ cycle, core, bit }): Upset => ({ cycle, target: 'global', processor: 'primary', core, location: 0, bit, width: 1 }));
    fc.assert(
      fc.property(fc.oneof({ weight: 4, arbitrary: memory }, { weight: 1, arbitrary: stackPointer }), (upset) => void checkNoCost(upset)),
      { numRuns: 80 },
    );
  });
});

describe('reproducible build (examples/c-adcs/build.sh)', () => {
  const probe = spawnSync('clang', ['--version'], { encoding: 'utf8' });
  const installed = probe.error || probe.status !== 0 ? null : probe.stdout.split('\n')[0].trim();
  const title = 'rebuilds the committed adcs.wasm byte for byte';

  it('the committed module names the toolchain that built it', () => {
    expect(existsSync(TOOLCHAIN)).toBe(true);
    expect(readFileSync(TOOLCHAIN, 'utf8')).toMatch(/^.*clang version \d+\.\d+\.\d+.*\n.*LLD \d+\.\d+\.\d+/);
  });

  it.skipIf(installed === null)(installed === null ? `${title} (skipped: clang is not installed)` : title, () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-c-adcs-'));
    try {
      const output = join(dir, 'adcs.wasm');
      const build = spawnSync('sh', [join(EXAMPLE, 'build.sh'), output], { encoding: 'utf8', timeout: 60_000 });
      expect(build.status, `build.sh failed (is wasm-ld installed? Debian: apt-get install clang lld):\n${build.stderr}`).toBe(0);
      const committedToolchain = readFileSync(TOOLCHAIN, 'utf8').trim();
      const builtToolchain = readFileSync(join(dir, 'toolchain.txt'), 'utf8').trim();
      const same = Buffer.compare(readFileSync(output), readFileSync(WASM)) === 0;
      const reason =
        committedToolchain === builtToolchain
          ? `the same toolchain (${installed}) built different bytes: the C sources or build.sh changed since adcs.wasm was committed; run examples/c-adcs/build.sh and commit adcs.wasm`
          : `the committed adcs.wasm was built by "${committedToolchain.replace(/\n/g, '" with "')}", but the installed toolchain is "${builtToolchain.replace(/\n/g, '" with "')}"; compare with that toolchain, or rebuild with build.sh and commit adcs.wasm and toolchain.txt`;
      expect(same, reason).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
