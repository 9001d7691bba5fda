// Shared helpers of the test suite: WAT → wasm bytes, small flight modules, short missions, and a
// closed-loop driver for a bare FlightComputer (what `simulate` does, without the bookkeeping).
import binaryen from 'assemblyscript/binaryen';
import { INPUT_CHANNELS, OUTPUT_CHANNELS } from '../src/abi/channels.js';
import type { CycleReport, FlightComputer } from '../src/computer/flight-computer.js';
import { Core } from '../src/core/core.js';
import { FlightModule } from '../src/core/flight-module.js';
import { parseMission, type MissionInput } from '../src/mission/config.js';
import { prepareFlight, REFERENCE_FSW, simulate, type FlightSetup, type RunResult, type TelemetryRow } from '../src/mission/fly.js';
import { createSpacecraft, type Spacecraft } from '../src/plant/spacecraft.js';
import type { Scenario } from '../src/plant/scenario.js';
import type { Fault as Upset } from '../src/faults/fault.js';

/** Compiles WebAssembly text to a binary. `names` keeps the name section (global and memory names). */
export function wat(text: string, { names = false } = {}): Uint8Array {
  const module = binaryen.parseText(text);
  const previous = binaryen.getDebugInfo();
  try {
    binaryen.setDebugInfo(names);
    if (!module.validate()) throw new Error('test module does not validate');
    return module.emitBinary();
  } finally {
    binaryen.setDebugInfo(previous);
    module.dispose();
  }
}

export function inputFrame(): Float64Array {
  return new Float64Array(INPUT_CHANNELS.length);
}

export function newCore(module: FlightModule, name = 'A', inputs = inputFrame()): Core {
  return new Core(module, name, inputs);
}

let referenceModule: FlightModule | undefined;
/** The reference flight software (build/adcs.wasm), prepared once per test file. */
export function referenceFsw(): FlightModule {
  referenceModule ??= FlightModule.fromFile(REFERENCE_FSW);
  return referenceModule;
}

/** A mission with no random upsets (scripted ones are passed to `simulate`). */
export function setupFor(input: MissionInput, module?: FlightModule): FlightSetup {
  return prepareFlight(parseMission({ upsets: { count: 0 }, ...input }, 'test'), module ?? referenceFsw());
}

export function fly(setup: FlightSetup, upsets: readonly Upset[], oracle = true): { result: RunResult; rows: TelemetryRow[] } {
  const rows: TelemetryRow[] = [];
  const result = simulate(setup, { upsets, oracle, onTelemetry: (row) => rows.push(row) });
  return { result, rows };
}

export function memoryUpset(cycle: number, core: 'A' | 'B', address: number, bit: number, processor: 'primary' | 'spare' = 'primary'): Upset {
  return { cycle, target: 'memory', processor, core, location: address, bit, width: 1 };
}

/**
 * Flies a booted FlightComputer in closed loop with the scenario's spacecraft, the way `simulate` does
 * (released written channels are applied, the rest hold). `beforeCycle` runs after the inputs of a cycle
 * are sensed and before the computer runs it; `afterCycle` sees the report.
 */
export class ClosedLoop {
  readonly spacecraft: Spacecraft;
  readonly inputs = inputFrame();
  readonly applied = new Float64Array(OUTPUT_CHANNELS.length);
  cycle = 0;

  constructor(
    readonly computer: FlightComputer,
    readonly scenario: Scenario,
    seed: number,
  ) {
    this.spacecraft = createSpacecraft(scenario, seed);
  }

  /** Senses the inputs of the next cycle (into `inputs`) without running the computer. */
  sense(): Float64Array {
    this.spacecraft.sense(this.cycle * this.scenario.controlPeriod, this.inputs);
    return this.inputs;
  }

  /** Runs the next cycle on the inputs last sensed, applies released commands, advances the plant. */
  finish(): CycleReport {
    const report = this.computer.runCycle(this.cycle, this.inputs);
    if (report.outputs) {
      for (let channel = 0; channel < this.applied.length; channel++) {
        if (report.outputs.writtenMask & (1 << channel)) this.applied[channel] = report.outputs.values[channel];
      }
    }
    this.spacecraft.actuate(this.applied);
    this.spacecraft.advance();
    this.cycle++;
    return report;
  }

  step(): CycleReport {
    this.sense();
    return this.finish();
  }
}

/** Bit patterns of an output capture's values and its written mask, for exact comparison. */
export function outputBits(capture: { values: Float64Array; writtenMask: number }): { mask: number; bits: string[] } {
  const bits: string[] = [];
  const view = new DataView(capture.values.buffer, capture.values.byteOffset, capture.values.byteLength);
  for (let i = 0; i < capture.values.length; i++) {
    if (capture.writtenMask & (1 << i)) bits.push(view.getBigUint64(i * 8, true).toString(16));
    else bits.push('-');
  }
  return { mask: capture.writtenMask, bits };
}

/**
 * A tiny flight module for fault-handling tests: `step` reads gyro_x and writes torque_x = gain · gyro_x
 * (gain at address 8, set by init; an integrator at address 16 makes the state evolve). When the byte at
 * address 0 is non-zero it misbehaves first: `trap` executes unreachable, `hang` loops forever.
 */
export function faultyModuleText(onFlag: 'trap' | 'hang' | 'none'): string {
  const misbehave =
    onFlag === 'trap' ? '(if (i32.load8_u (i32.const 0)) (then (unreachable)))' : onFlag === 'hang' ? '(if (i32.load8_u (i32.const 0)) (then (loop $spin (br $spin))))' : '';
  return `(module
    (import "bus" "gyro_x" (func $gyro_x (result f64)))
    (import "bus" "torque_x" (func $torque_x (param f64)))
    (memory (export "memory") 1)
    (func (export "init")
      (i32.store8 (i32.const 0) (i32.const 0))
      (f64.store (i32.const 8) (f64.const -2.5))
      (f64.store (i32.const 16) (f64.const 0)))
    (func (export "step")
      ${misbehave}
      (f64.store (i32.const 16) (f64.add (f64.load (i32.const 16)) (call $gyro_x)))
      (call $torque_x (f64.add
        (f64.mul (f64.load (i32.const 8)) (call $gyro_x))
        (f64.mul (f64.const -0.01) (f64.load (i32.const 16)))))))`;
}

/** Flight software with one i32 state global, counting its cycles; `alsoInStep` runs after the count. */
export function counterModuleText(alsoInStep = ''): string {
  return `(module
    (import "bus" "gyro_x" (func $gyro_x (result f64)))
    (import "bus" "torque_x" (func $torque_x (param f64)))
    (memory (export "memory") 1)
    (global $count (mut i32) (i32.const 0))
    (func (export "init") (global.set $count (i32.const 0)))
    (func (export "step")
      (global.set $count (i32.add (global.get $count) (i32.const 1)))
      ${alsoInStep}
      (call $torque_x (f64.mul (f64.const -2) (call $gyro_x)))))`;
}

export function faultyModule(onFlag: 'trap' | 'hang' | 'none'): FlightModule {
  return FlightModule.fromBytes(wat(faultyModuleText(onFlag)), `faulty-${onFlag}.wat`);
}

/**
 * Flies one bare core of `setup`'s flight software closed-loop for `cycles` cycles (fault-free), then
 * senses the inputs of the next cycle. `visit` sees the core after boot and after every cycle.
 */
export function probeFlight(setup: FlightSetup, cycles: number, visit?: (core: Core) => void): { core: Core; inputs: Float64Array } {
  const inputs = inputFrame();
  const core = newCore(setup.flightModule, 'probe', inputs);
  core.boot(setup.computer.bootInstructions);
  const spacecraft = createSpacecraft(setup.scenario, setup.mission.seed);
  const applied = new Float64Array(OUTPUT_CHANNELS.length);
  visit?.(core);
  for (let cycle = 0; cycle < cycles; cycle++) {
    spacecraft.sense(cycle * setup.scenario.controlPeriod, inputs);
    core.step(setup.computer.watchdogInstructions);
    for (let channel = 0; channel < applied.length; channel++) {
      if (core.outputs.writtenMask & (1 << channel)) applied[channel] = core.outputs.values[channel];
    }
    spacecraft.actuate(applied);
    spacecraft.advance();
    visit?.(core);
  }
  spacecraft.sense(cycles * setup.scenario.controlPeriod, inputs);
  return { core, inputs };
}

/**
 * The byte range of memory the flight software really uses: lowest to highest non-zero address over a
 * short fault-free flight, rounded out to 8 bytes.
 */
export function usedMemoryRange(setup: FlightSetup, cycles = 100): { start: number; end: number } {
  let low = Infinity;
  let high = -1;
  probeFlight(setup, cycles, (core) => {
    const bytes = core.memoryBytes();
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] !== 0) {
        if (i < low) low = i;
        if (i > high) high = i;
      }
    }
  });
  return { start: Math.floor(low / 8) * 8, end: Math.ceil((high + 1) / 8) * 8 };
}

/**
 * Addresses in `range` (stepping 8 bytes: the high byte of each f64) where flipping `bit` before cycle
 * `cycle` changes that very cycle's outputs: state the software reads before it writes its commands.
 */
export function outputSensitiveAddresses(setup: FlightSetup, cycle: number, range: { start: number; end: number }, bit = 6): number[] {
  const { core } = probeFlight(setup, cycle);
  const snapshot = Uint8Array.from(core.memoryBytes());
  const globals = core.globals.map((global) => global.value);
  const restore = () => {
    core.memoryBytes().set(snapshot);
    core.globals.forEach((global, i) => (global.value = globals[i]));
  };
  core.step(setup.computer.watchdogInstructions);
  const expected = JSON.stringify(outputBits(core.outputs));
  const found: number[] = [];
  for (let address = range.start + 7; address < range.end; address += 8) {
    restore();
    core.memoryBytes()[address] ^= 1 << bit;
    const result = core.step(setup.computer.watchdogInstructions);
    if (result.status !== 'ok' || JSON.stringify(outputBits(core.outputs)) !== expected) found.push(address);
  }
  restore();
  return found;
}
