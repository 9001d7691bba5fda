// A core: one instance of the compiled flight software, wired to the I/O bus. It runs one control cycle
// at a time under an instruction budget, and reports how the cycle ended — completed, trapped, stopped
// by the watchdog, by a failed software check or by the software's own abort — never letting a fault of
// the flight software become a fault of the tool. Its whole state (linear memory and every mutable
// global) is readable and writable at a cycle boundary, which is what the comparator, the checkpoint and
// the upset injector work on.
import { instantiateSync } from '@assemblyscript/loader';
import { ABORT_IMPORT, ABORT_MODULE, decodeAbort } from '../abi/abort.js';
import { DEBUG_MODULE, INPUT_CHANNELS, OUTPUT_CHANNELS } from '../abi/channels.js';
import { CHECK_IMPORT } from '../passes/checks.js';
import { FUEL_GLOBAL, METERED_PREFIX, WATCHDOG_IMPORT, WATCHDOG_MODULE } from '../passes/count-instructions.js';
import { DIRTY_GLOBAL } from '../passes/track-dirty-memory.js';
import type { FlightModule } from './flight-module.js';
import { Bus, inputReader, MAX_OUTPUTS, OUTPUT_VALUES_OFFSET, outputWriter } from './bus.js';
import { AbortCalled, CheckFailed, classifyTrap, WatchdogExpired, type AbortReport, type TrapKind } from './traps.js';

/**
 * How a run ended: completed, trapped, stopped by the watchdog, stopped by a failed software check, or
 * stopped by the software's own abort (AssemblyScript's `env.abort`).
 */
export type CycleStatus = 'ok' | 'trap' | 'watchdog' | 'check' | 'abort';

export interface CycleResult {
  status: CycleStatus;
  /** Instructions executed (charged) before the cycle ended. */
  instructions: number;
  trap: TrapKind | null;
  /** What the software's abort said, when it aborted. */
  abort: AbortReport | null;
}

/** The written-mask bits of the command channels: what reaches an actuator (debug outputs do not). */
const COMMAND_MASK = (1 << OUTPUT_CHANNELS.length) - 1;

/**
 * Output capture of one core for one cycle: last value per channel, which were written, how many writes.
 * The bus's output channels come first, then the module's debug outputs (abi/channels.ts).
 */
export class OutputCapture {
  readonly values: Float64Array;
  /** Bit patterns of `values`, for NaN-safe bitwise comparison. */
  readonly bits: Uint32Array;
  /** [written mask, writes]: where a core's bus writers count them (its memory), or a capture's own. */
  private readonly counters: Int32Array;

  /** @param bus the memory of the bus whose writers fill it (src/core/bus.ts); without one, a capture of its own. */
  constructor(debugOutputs = 0, bus?: ArrayBuffer) {
    const channels = OUTPUT_CHANNELS.length + debugOutputs;
    if (channels > MAX_OUTPUTS) throw new RangeError(`${channels} output channels: a bus carries at most ${MAX_OUTPUTS}`);
    this.counters = bus ? new Int32Array(bus, 0, 2) : new Int32Array(2);
    this.values = bus ? new Float64Array(bus, OUTPUT_VALUES_OFFSET, channels) : new Float64Array(channels);
    this.bits = new Uint32Array(this.values.buffer, this.values.byteOffset, 2 * channels);
  }

  /** Output channels written since the last clear (bit c: channel c). */
  get writtenMask(): number {
    return this.counters[0];
  }

  set writtenMask(mask: number) {
    this.counters[0] = mask;
  }

  /** Writes since the last clear. */
  get writes(): number {
    return this.counters[1];
  }

  set writes(count: number) {
    this.counters[1] = count;
  }

  clear(): void {
    this.counters[0] = 0;
    this.counters[1] = 0;
  }

  /** Same channels written, as often, with the same last values bit for bit (unwritten slots are stale). */
  sameAs(other: OutputCapture): boolean {
    const mask = this.writtenMask;
    return mask === other.writtenMask && this.writes === other.writes && this.sameValues(other, mask, this.values.length);
  }

  /**
   * Whether `b` and `c` are both the same as this (sameAs each): the vote of three asks this every cycle,
   * in one pass over the channels rather than two.
   */
  sameAsBoth(b: OutputCapture, c: OutputCapture): boolean {
    const mask = this.writtenMask;
    const writes = this.writes;
    if (mask !== b.writtenMask || mask !== c.writtenMask || writes !== b.writes || writes !== c.writes) return false;
    const x = this.bits;
    const y = b.bits;
    const z = c.bits;
    for (let channel = 0, channels = this.values.length; channel < channels; channel++) {
      if ((mask & (1 << channel)) === 0) continue;
      const low = x[2 * channel];
      const high = x[2 * channel + 1];
      if (low !== y[2 * channel] || high !== y[2 * channel + 1] || low !== z[2 * channel] || high !== z[2 * channel + 1]) return false;
    }
    return true;
  }

  /** Same commands (command channels written, with the same last values bit for bit): what the actuators would get. */
  sameCommandsAs(other: OutputCapture): boolean {
    const mask = this.writtenMask & COMMAND_MASK;
    return mask === (other.writtenMask & COMMAND_MASK) && this.sameValues(other, mask, OUTPUT_CHANNELS.length);
  }

  /** Whether the values of the first `channels` channels in `mask` are equal bit for bit (NaN-safe). */
  private sameValues(other: OutputCapture, mask: number, channels: number): boolean {
    for (let channel = 0; channel < channels; channel++) {
      if ((mask & (1 << channel)) === 0) continue;
      if (this.bits[2 * channel] !== other.bits[2 * channel] || this.bits[2 * channel + 1] !== other.bits[2 * channel + 1]) return false;
    }
    return true;
  }
}

/**
 * A lasting fault of the hardware under a core (src/computer/strike.ts makes them: stuck bits, a dead core,
 * babbling outputs). It stays with the core from its cycle on; the core consults it around every run.
 */
export interface Affliction {
  /** A dead core does not run: it presents no outputs, and the watchdog fires at its budget. */
  readonly dead: boolean;
  /** Before a run (`afterRun` false) and after it: re-asserts stuck bits, garbles outputs. */
  apply(core: Core, afterRun: boolean): void;
}

/** The fuel counter is an i32: the largest instruction budget one run can be given. */
export const MAX_INSTRUCTION_BUDGET = 2 ** 31 - 1;

export class Core {
  readonly outputs: OutputCapture;
  private readonly bus = new Bus(INPUT_CHANNELS.length);
  private readonly instance: WebAssembly.Instance;
  private readonly initFn: (budget: number) => number;
  private readonly stepFn: (budget: number) => number;
  private readonly fuel: WebAssembly.Global;
  private readonly dirty: WebAssembly.Global | null;
  readonly memory: WebAssembly.Memory;
  private view: Buffer;
  /** State globals in the module's fixed order (FlightModule.stateGlobals). */
  readonly globals: readonly WebAssembly.Global[];

  /**
   * The bus whose input frame the flight software reads: the core's own, which the core latches before each
   * run, or its processor's, shared by the processor's cores and latched by the processor once per cycle for
   * all of them (src/processor/processor.ts). Outputs always go to the core's own bus.
   */
  readonly inputBus: Bus;
  private readonly latchesInputs: boolean;

  /**
   * @param inputs the input frame of the processor this core belongs to: both cores read the same frame,
   *   latched once per cycle, which is how the pair is served identical inputs.
   * @param memoryLimitBytes a core whose memory grows beyond this has failed (trap 'memory-limit'): its
   *   state would no longer fit the checkpoint.
   * @param inputBus a bus whose input frame the core reads, latched by its owner (see `inputBus`); none:
   *   the core's own, latched by every run.
   */
  constructor(
    readonly flightModule: FlightModule,
    readonly name: string,
    public inputs: Float64Array,
    readonly memoryLimitBytes = Number.POSITIVE_INFINITY,
    inputBus?: Bus,
  ) {
    this.inputBus = inputBus ?? this.bus;
    this.latchesInputs = inputBus === undefined;
    this.outputs = new OutputCapture(flightModule.debugOutputs.length, this.bus.memory);
    const bus: Record<string, unknown> = {};
    for (const input of flightModule.inputs) bus[input.name] = this.inputBus.exports[inputReader(input.channel)];
    for (const output of flightModule.outputs) bus[output.name] = this.bus.exports[outputWriter(output.channel)];
    const debug: Record<string, unknown> = {};
    for (const output of flightModule.debugOutputs) debug[output.name] = this.bus.exports[outputWriter(output.channel)];
    // Set once the instance exists (no start function: nothing runs before).
    let getString: (pointer: number) => string | null = () => null;
    // @assemblyscript/loader instantiates, so that abort's strings are read as the loader reads them. It
    // adds its other conveniences to the imports (env.trace, env.seed, Math, Date), which the contract
    // keeps any module from importing: env.seed (the wall clock) would break determinism.
    const loaded = instantiateSync(flightModule.compiled, {
      bus,
      [DEBUG_MODULE]: debug,
      [ABORT_MODULE]: {
        [ABORT_IMPORT]: (message: number, file: number, line: number, column: number) => {
          throw new AbortCalled(decodeAbort(getString, message, file, line, column));
        },
      },
      [WATCHDOG_MODULE]: {
        [WATCHDOG_IMPORT]: () => {
          throw new WatchdogExpired();
        },
        [CHECK_IMPORT]: (site: number) => {
          throw new CheckFailed(site);
        },
      },
    });
    this.instance = loaded.instance;
    getString = loaded.exports.__getString;
    const exports = this.instance.exports as Record<string, unknown>;
    this.initFn = exports[`${METERED_PREFIX}init`] as (budget: number) => number;
    this.stepFn = exports[`${METERED_PREFIX}step`] as (budget: number) => number;
    this.fuel = exports[FUEL_GLOBAL] as WebAssembly.Global;
    this.memory = exports.memory as WebAssembly.Memory;
    this.view = Buffer.from(this.memory.buffer);
    this.words = new Int32Array(this.memory.buffer);
    this.dirty = flightModule.dirtyTracking ? (exports[DIRTY_GLOBAL] as WebAssembly.Global) : null;
    this.globals = flightModule.stateGlobals.map((global) => exports[global.exportName] as WebAssembly.Global);
  }

  /** The lasting faults of the hardware under this core, or null (the common case, and the fast path). */
  afflictions: Affliction[] | null = null;

  /** Gives the core a lasting fault; it acts from the next run on (and on the state now). */
  afflict(affliction: Affliction): void {
    (this.afflictions ??= []).push(affliction);
    affliction.apply(this, true);
  }

  /** Whether a lasting fault has killed the core. */
  get dead(): boolean {
    return this.afflictions?.some((affliction) => affliction.dead) ?? false;
  }

  /** Re-asserts the lasting faults on the state (after the state was restored from elsewhere). */
  holdAfflictions(): void {
    if (this.afflictions) for (const affliction of this.afflictions) affliction.apply(this, false);
  }

  /** Latches `inputs` into the bus the core reads them from (its processor does, when that bus is shared). */
  latchInputs(): void {
    this.inputBus.latch(this.inputs);
  }

  /** Runs `init` (boot) under the budget. */
  boot(budget: number): CycleResult {
    return this.run(this.initFn, budget);
  }

  /** Runs one control cycle (`step`) under the budget. */
  step(budget: number): CycleResult {
    return this.run(this.stepFn, budget);
  }

  /**
   * The result of the last run, updated in place by every run (the per-cycle path allocates nothing):
   * read it before the core runs again.
   */
  readonly result: CycleResult = { status: 'ok', instructions: 0, trap: null, abort: null };

  private run(entry: (budget: number) => number, budget: number): CycleResult {
    if (!(budget >= 0 && budget <= MAX_INSTRUCTION_BUDGET)) {
      throw new RangeError(`instruction budget ${budget} outside 0..${MAX_INSTRUCTION_BUDGET} (the fuel counter is an i32)`);
    }
    this.outputs.clear();
    if (this.latchesInputs) this.bus.latch(this.inputs);
    const result = this.result;
    if (this.afflictions !== null) return this.runAfflicted(entry, budget);
    try {
      result.instructions = budget - entry(budget);
      result.status = 'ok';
      result.trap = null;
      result.abort = null;
      if (this.memorySize() > this.memoryLimitBytes) {
        result.status = 'trap';
        result.trap = 'memory-limit';
      }
    } catch (error) {
      result.instructions = budget - (this.fuel.value as number);
      result.abort = null;
      if (error instanceof WatchdogExpired) {
        result.status = 'watchdog';
        result.trap = null;
      } else if (error instanceof CheckFailed) {
        result.status = 'check';
        result.trap = null;
      } else if (error instanceof AbortCalled) {
        result.status = 'abort';
        result.trap = null;
        result.abort = error.report;
      } else {
        const trap = classifyTrap(error);
        if (trap === null) throw error;
        result.status = 'trap';
        result.trap = trap;
      }
    }
    return result;
  }

  private runAfflicted(entry: (budget: number) => number, budget: number): CycleResult {
    const afflictions = this.afflictions!;
    if (this.dead) {
      const result = this.result;
      result.status = 'watchdog';
      result.instructions = budget;
      result.trap = null;
      return result;
    }
    for (const affliction of afflictions) affliction.apply(this, false);
    this.afflictions = null;
    try {
      this.run(entry, budget);
    } finally {
      this.afflictions = afflictions;
    }
    for (const affliction of afflictions) affliction.apply(this, true);
    return this.result;
  }

  /** The memory's size in bytes: the view's while memory has not grown since (asking the memory costs a call into V8). */
  private memorySize(): number {
    const viewed = this.view.byteLength;
    return viewed !== 0 ? viewed : this.memory.buffer.byteLength;
  }

  /** The linear memory as bytes (a Buffer sharing it: no copy). */
  memoryBytes(): Buffer {
    // memory.grow detaches the old buffer, which then reads as empty. `length`, not `byteLength`: the same
    // for bytes, and cheaper to ask (the comparisons ask every cycle).
    if (this.view.length === 0) this.viewMemory();
    return this.view;
  }

  /**
   * The memory as 32-bit words (for comparisons of aligned ranges a word at a time), kept as memoryBytes
   * is: both views are made together, of one buffer, so that an empty one alone says memory has grown
   * (asking a view for its buffer, to compare buffers, costs more than the comparison it serves).
   */
  memoryWords(): Int32Array<ArrayBufferLike> {
    if (this.words.length === 0) this.viewMemory();
    return this.words;
  }

  private words: Int32Array<ArrayBufferLike>;

  private viewMemory(): void {
    this.view = Buffer.from(this.memory.buffer);
    this.words = new Int32Array(this.memory.buffer);
  }

  /**
   * Blocks of memory written since the bitmap was last cleared (bit i: block i of the module's tracked
   * range), or all ones when the module has no dirty tracking.
   */
  dirtyBlocks(): number {
    return this.dirty ? (this.dirty.value as number) : -1;
  }

  /** A global the module's passes exported (read tracking, fault hooks), by export name. */
  exportedGlobal(name: string): WebAssembly.Global {
    const global = (this.instance.exports as Record<string, unknown>)[name];
    if (!(global instanceof WebAssembly.Global)) throw new Error(`core ${this.name}: the module exports no global "${name}"`);
    return global;
  }

  /** Starts a new record of written blocks: called when the state is committed or restored. */
  clearDirtyBlocks(): void {
    if (this.dirty) this.dirty.value = 0;
  }
}
