// The golden run of a campaign: the mission flown once without faults by one core, recorded so that every
// experiment can start near its injection cycle instead of from launch and be judged against it. Per
// cycle it keeps the input frame's sensed channels, the sensor noise, the released outputs, the instructions executed and the memory blocks
// written and read, each in one packed typed array; every `snapshotInterval` cycles (or a multiple, when
// the memory budget requires: golden-snapshots.ts), the core's and the spacecraft's whole state. A fault-
// free core is deterministic, so a golden companion core restored from the same snapshot retraces the
// golden run exactly, and both cores of a fault-free processor behave like it.
import { INPUT_CHANNELS, OUTPUT_CHANNELS } from '../abi/channels.js';
import { Core } from '../core/core.js';
import type { FlightModule } from '../core/flight-module.js';
import { assertCoreCompleted } from '../mission/fault-free.js';
import type { FlightSetup } from '../mission/fly.js';
import { READ_GLOBAL } from '../passes/track-read-memory.js';
import { hasFaultHooks, readFaultCounters, resetFaultCounters } from '../core/fault-core.js';
import { NOISE_VALUES } from '../plant/sensors.js';
import type { Scenario } from '../plant/scenario.js';
import { createSpacecraft, fillFixedInputs, SENSED_INPUTS } from '../plant/spacecraft.js';
import { GoldenSnapshots } from './golden-snapshots.js';

export interface GoldenRun {
  readonly cycles: number;
  /**
   * The sensed channels of each cycle's input frame (SENSED_INPUTS.length values per cycle); loadFrame
   * makes the whole frame, the channels fixed by the scenario and the time added.
   */
  readonly sensedInputs: Float64Array;
  /** The scenario flown, which fixes the other channels. */
  readonly scenario: Scenario;
  /** The sensor noise drawn in each cycle (NOISE_VALUES per cycle): for flying another trajectory through the same noise. */
  readonly sensorNoise: Float64Array;
  /** Released output values of each cycle (OUTPUT_CHANNELS.length per cycle), with the written mask and count. */
  readonly outputs: Float64Array;
  readonly outputBits: Uint32Array;
  readonly writtenMasks: Int32Array;
  readonly writeCounts: Int32Array;
  readonly instructions: Int32Array;
  /** Memory blocks written in each cycle (track-dirty-memory's bitmap). */
  readonly writtenBlocks: Int32Array;
  /** Memory blocks read in each cycle (track-read-memory's bitmap). */
  readonly readBlocks: Int32Array;
  /** Every block the golden run ever writes: where its snapshots can differ from one another. */
  readonly everWritten: number;
  /** Every block the golden run ever reads. */
  readonly everRead: number;
  /** Value-producing instructions and branch decisions executed in each cycle (with a fault-hook build). */
  readonly resultCounts: Int32Array | null;
  readonly branchCounts: Int32Array | null;
  /** Bytes of memory at the first cycle. */
  readonly memoryBytes: number;
  /**
   * The campaign's snapshot interval: the grid an experiment's simulated cycles are counted from, so
   * that records do not depend on the interval the snapshots are actually stored at.
   */
  readonly snapshotInterval: number;
  /** Core and spacecraft state at the start of every `snapshots.interval`-th cycle. */
  readonly snapshots: GoldenSnapshots;
}

/** Makes the golden input frame of `cycle` in `frame`: as the spacecraft sensed it, bit for bit. */
export function loadFrame(golden: GoldenRun, cycle: number, frame: Float64Array): void {
  fillFixedInputs(golden.scenario, cycle * golden.scenario.controlPeriod, frame);
  const sensed = golden.sensedInputs;
  const length = SENSED_INPUTS.length;
  for (let i = 0, at = cycle * length; i < length; i++, at++) frame[SENSED_INPUTS[i]] = sensed[at];
}

/** What a golden run holds, in bytes: per cycle, in its snapshots, and in all. */
export interface GoldenRunBytes {
  /** The per-cycle arrays' bytes per cycle. */
  readonly perCycle: number;
  /** The snapshots' packed columns and stored memory ranges (with their overhead). */
  readonly snapshots: number;
  /** The base memory image the snapshots are stored over. */
  readonly base: number;
  readonly total: number;
}

/** The bytes of the per-cycle arrays of one cycle, with or without the fault-hook counts. */
export function goldenBytesPerCycle(hooked: boolean): number {
  const int32s = 5 + (hooked ? 2 : 0); // written mask, write count, instructions, written and read blocks; result and branch counts
  return 8 * SENSED_INPUTS.length + 8 * NOISE_VALUES + 8 * OUTPUT_CHANNELS.length + 4 * int32s;
}

export function goldenRunBytes(golden: GoldenRun): GoldenRunBytes {
  const perCycle = goldenBytesPerCycle(golden.resultCounts !== null);
  const base = golden.snapshots.memoryBytes;
  const snapshots = golden.snapshots.bytes - base;
  return { perCycle, snapshots, base, total: perCycle * golden.cycles + snapshots + base };
}

/**
 * Flies the mission fault-free with one core and records the golden run. `module` must be prepared with
 * GOLDEN_PASSES (the core passes plus read tracking, which changes no count and no result), followed by
 * fault-hooks when the campaign strikes instruction results or branches (to count them per cycle). The
 * snapshots' stored memory ranges are kept within `snapshotBudgetBytes` by spacing them further apart.
 */
export function recordGoldenRun(setup: FlightSetup, module: FlightModule, snapshotInterval: number, snapshotBudgetBytes = Number.POSITIVE_INFINITY): GoldenRun {
  const { cycles, scenario, computer } = setup;
  const inputsLength = INPUT_CHANNELS.length;
  const outputsLength = OUTPUT_CHANNELS.length;
  const sensedInputs = new Float64Array(cycles * SENSED_INPUTS.length);
  const sensorNoise = new Float64Array(cycles * NOISE_VALUES);
  const outputs = new Float64Array(cycles * outputsLength);
  const writtenMasks = new Int32Array(cycles);
  const writeCounts = new Int32Array(cycles);
  const instructions = new Int32Array(cycles);
  const writtenBlocks = new Int32Array(cycles);
  const readBlocks = new Int32Array(cycles);

  const inputs = new Float64Array(inputsLength);
  const core = new Core(module, 'golden', inputs, computer.memoryLimitBytes);
  const reads = core.exportedGlobal(READ_GLOBAL);
  const hooked = hasFaultHooks(core);
  const resultCounts = hooked ? new Int32Array(cycles) : null;
  const branchCounts = hooked ? new Int32Array(cycles) : null;
  const boot = core.boot(computer.bootInstructions);
  assertCoreCompleted(module.source, boot, null, computer.bootInstructions);
  const snapshots = new GoldenSnapshots(core, snapshotInterval, cycles, snapshotBudgetBytes);
  const spacecraft = createSpacecraft(scenario, setup.mission.seed);
  const applied = new Float64Array(outputsLength);
  let everWritten = 0;

  for (let cycle = 0; cycle < cycles; cycle++) {
    if (cycle % snapshots.interval === 0) snapshots.take(cycle, core, everWritten, spacecraft.snapshot());
    spacecraft.sense(cycle * scenario.controlPeriod, inputs);
    for (let i = 0, at = cycle * SENSED_INPUTS.length; i < SENSED_INPUTS.length; i++, at++) sensedInputs[at] = inputs[SENSED_INPUTS[i]];
    sensorNoise.set(spacecraft.lastNoise, cycle * NOISE_VALUES);
    core.clearDirtyBlocks();
    reads.value = 0;
    if (hooked) resetFaultCounters(core);
    const result = core.step(computer.watchdogInstructions);
    if (hooked) {
      const counters = readFaultCounters(core);
      resultCounts![cycle] = counters.results;
      branchCounts![cycle] = counters.branches;
    }
    assertCoreCompleted(module.source, result, cycle, computer.watchdogInstructions);
    instructions[cycle] = result.instructions;
    writtenBlocks[cycle] = core.dirtyBlocks();
    everWritten |= writtenBlocks[cycle];
    readBlocks[cycle] = reads.value as number;
    const captured = core.outputs;
    // The commands only: debug outputs reach no actuator, and no experiment is judged by them against the golden run.
    outputs.set(captured.values.subarray(0, outputsLength), cycle * outputsLength);
    writtenMasks[cycle] = captured.writtenMask;
    writeCounts[cycle] = captured.writes;
    for (let channel = 0; channel < outputsLength; channel++) {
      if (captured.writtenMask & (1 << channel)) applied[channel] = captured.values[channel];
    }
    spacecraft.actuate(applied);
    spacecraft.advance();
  }
  return {
    cycles,
    sensedInputs,
    scenario,
    sensorNoise,
    outputs,
    outputBits: new Uint32Array(outputs.buffer),
    writtenMasks,
    writeCounts,
    instructions,
    writtenBlocks,
    readBlocks,
    everWritten,
    everRead: readBlocks.reduce((mask, blocks) => mask | blocks, 0),
    resultCounts,
    branchCounts,
    memoryBytes: snapshots.memoryBytes,
    snapshotInterval,
    snapshots,
  };
}

/** Whether a core's outputs of this cycle equal the golden outputs of `cycle`, bit for bit. */
export function outputsMatchGolden(core: Core, golden: GoldenRun, cycle: number): boolean {
  const captured = core.outputs;
  if (captured.writtenMask !== golden.writtenMasks[cycle] || captured.writes !== golden.writeCounts[cycle]) return false;
  const base = cycle * OUTPUT_CHANNELS.length * 2;
  for (let channel = 0; channel < OUTPUT_CHANNELS.length; channel++) {
    if ((captured.writtenMask & (1 << channel)) === 0) continue;
    if (captured.bits[2 * channel] !== golden.outputBits[base + 2 * channel] || captured.bits[2 * channel + 1] !== golden.outputBits[base + 2 * channel + 1]) return false;
  }
  return true;
}
