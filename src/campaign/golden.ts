// The golden run of a campaign: the mission flown once without faults by one core, recorded so that every
// experiment can start near its injection cycle instead of from launch and be judged against it. Per
// cycle it keeps the input frame, the released outputs, the instructions executed, the memory blocks
// written and the spacecraft's state; every `snapshotInterval` cycles, the core's whole state. A fault-
// free core is deterministic, so a golden companion core restored from the same snapshot retraces the
// golden run exactly, and both cores of a fault-free processor behave like it.
import { INPUT_CHANNELS, OUTPUT_CHANNELS } from '../abi/channels.js';
import { Core } from '../core/core.js';
import { ALL_BLOCKS, memoryRanges, RANGES } from '../core/state.js';
import type { FlightModule } from '../core/flight-module.js';
import { assertCoreCompleted } from '../mission/fault-free.js';
import type { FlightSetup } from '../mission/fly.js';
import { READ_GLOBAL } from '../passes/track-read-memory.js';
import { hasFaultHooks, readFaultCounters, resetFaultCounters } from '../core/fault-core.js';
import { createSpacecraft, type SpacecraftSnapshot } from '../plant/spacecraft.js';

export interface CoreSnapshot {
  readonly memory: Uint8Array;
  readonly globals: Array<number | bigint>;
}

export interface GoldenRun {
  readonly cycles: number;
  /** Input frame of each cycle. */
  readonly frames: Float64Array[];
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
  /** The spacecraft at the start of each cycle, before sensing. */
  readonly spacecraft: SpacecraftSnapshot[];
  /** Golden pointing error after each cycle, degrees. */
  readonly pointingErrorDeg: Float64Array;
  readonly snapshotInterval: number;
  /** Core state at the start of cycle i × snapshotInterval. */
  readonly snapshots: CoreSnapshot[];
}

/** A copy of a core's state (a Buffer's slice() would share the memory, not copy it). */
export function snapshotCore(core: Core): CoreSnapshot {
  return { memory: new Uint8Array(core.memoryBytes()), globals: core.globals.map((global) => global.value as number | bigint) };
}

/**
 * Restores a core to a snapshot. Only the memory blocks in `blocks` are copied: a core that already holds
 * some golden state differs from any other golden snapshot only where the golden run writes, and where
 * the core itself wrote or was struck since — which the caller knows. ALL_BLOCKS copies everything.
 */
export function restoreCore(core: Core, snapshot: CoreSnapshot, blocks: number = ALL_BLOCKS): void {
  const memory = core.memoryBytes();
  if (memory.length !== snapshot.memory.length) {
    if (memory.length > snapshot.memory.length) throw new Error(`core ${core.name}: memory grew past the golden run's; restore a fresh core`);
    core.memory.grow((snapshot.memory.length - memory.length) / 65536);
    blocks = ALL_BLOCKS;
  }
  const target = core.memoryBytes();
  const source = snapshot.memory;
  const end = memoryRanges(core, blocks, source.length);
  for (let i = 0; i < end; i += 2) target.set(source.subarray(RANGES[i], RANGES[i + 1]), RANGES[i]);
  for (let i = 0; i < snapshot.globals.length; i++) core.globals[i].value = snapshot.globals[i];
  core.clearDirtyBlocks();
}

/**
 * Flies the mission fault-free with one core and records the golden run. `module` must be prepared with
 * GOLDEN_PASSES (the core passes plus read tracking, which changes no count and no result), followed by
 * fault-hooks when the campaign strikes instruction results or branches (to count them per cycle).
 */
export function recordGoldenRun(setup: FlightSetup, module: FlightModule, snapshotInterval: number): GoldenRun {
  const { cycles, scenario, computer } = setup;
  const outputsLength = OUTPUT_CHANNELS.length;
  const frames: Float64Array[] = [];
  const outputs = new Float64Array(cycles * outputsLength);
  const writtenMasks = new Int32Array(cycles);
  const writeCounts = new Int32Array(cycles);
  const instructions = new Int32Array(cycles);
  const writtenBlocks = new Int32Array(cycles);
  const readBlocks = new Int32Array(cycles);
  const pointingErrorDeg = new Float64Array(cycles);
  const spacecraftSnapshots: SpacecraftSnapshot[] = [];
  const snapshots: CoreSnapshot[] = [];

  const inputs = new Float64Array(INPUT_CHANNELS.length);
  const core = new Core(module, 'golden', inputs, computer.memoryLimitBytes);
  const reads = core.exportedGlobal(READ_GLOBAL);
  const hooked = hasFaultHooks(core);
  const resultCounts = hooked ? new Int32Array(cycles) : null;
  const branchCounts = hooked ? new Int32Array(cycles) : null;
  const boot = core.boot(computer.bootInstructions);
  assertCoreCompleted(module.source, boot, null, computer.bootInstructions);
  const spacecraft = createSpacecraft(scenario, setup.mission.seed);
  const applied = new Float64Array(outputsLength);

  for (let cycle = 0; cycle < cycles; cycle++) {
    if (cycle % snapshotInterval === 0) snapshots.push(snapshotCore(core));
    spacecraftSnapshots.push(spacecraft.snapshot());
    spacecraft.sense(cycle * scenario.controlPeriod, inputs);
    frames.push(inputs.slice());
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
    readBlocks[cycle] = reads.value as number;
    const captured = core.outputs;
    outputs.set(captured.values, cycle * outputsLength);
    writtenMasks[cycle] = captured.writtenMask;
    writeCounts[cycle] = captured.writes;
    for (let channel = 0; channel < outputsLength; channel++) {
      if (captured.writtenMask & (1 << channel)) applied[channel] = captured.values[channel];
    }
    spacecraft.actuate(applied);
    spacecraft.advance();
    pointingErrorDeg[cycle] = spacecraft.pointingErrorDeg();
  }
  return {
    cycles,
    frames,
    outputs,
    outputBits: new Uint32Array(outputs.buffer),
    writtenMasks,
    writeCounts,
    instructions,
    writtenBlocks,
    readBlocks,
    everWritten: writtenBlocks.reduce((mask, blocks) => mask | blocks, 0),
    everRead: readBlocks.reduce((mask, blocks) => mask | blocks, 0),
    resultCounts,
    branchCounts,
    spacecraft: spacecraftSnapshots,
    pointingErrorDeg,
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
