// A flight-software module prepared for flight: read, checked against the flight-software ABI
// (docs/abi.md), transformed by the core passes (state export, instruction counting) and compiled once.
// Every core — both cores of both processors, the oracle — is an instance of this one compiled
// WebAssembly.Module, which is what makes two cores run the same instructions.
import { readFileSync } from 'node:fs';
import { IN, OUT, OUTPUT_CHANNELS, type InputChannel, type OutputChannel } from '../abi/channels.js';
import { assertConforms, inspectModule } from '../abi/contract.js';
import type { PersistentRegion } from '../abi/persistent-region.js';
import { CORE_PASSES, ModuleError, transformBinary } from '../passes/index.js';
import type { DirtyMemoryReport } from '../passes/track-dirty-memory.js';
import { FUEL_GLOBAL } from '../passes/count-instructions.js';
import type { ExportStateReport, StateGlobal } from '../passes/export-state.js';

export interface BusImport {
  readonly name: string;
  readonly channel: number;
}

export interface FlightModuleOptions {
  /** Module passes to prepare the module with (default: every core's). */
  readonly passes?: readonly string[];
  /** Import name → bus channel, for modules whose imports are named otherwise. */
  readonly channelMap?: Readonly<Record<string, string>>;
  /** Refuse a module whose memory starts larger than this many pages. */
  readonly memoryLimitPages?: number;
}

export class FlightModule {
  private constructor(
    readonly source: string,
    readonly compiled: WebAssembly.Module,
    readonly inputs: readonly BusImport[],
    readonly outputs: readonly BusImport[],
    /** The debug outputs (docs/abi.md), in their order: channel OUTPUT_CHANNELS.length + i of a core's output capture. */
    readonly debugOutputs: readonly BusImport[],
    /** The mutable globals that make up a core's state, in a fixed order. */
    readonly stateGlobals: readonly StateGlobal[],
    /** How memory writes are tracked, or null when the module was built without dirty tracking. */
    readonly dirtyTracking: DirtyMemoryReport | null,
    /** The passes the module was prepared with. */
    readonly passes: readonly string[],
    /** The persistent region the module declares, replicated to the other processor; null: none. */
    readonly persistent: PersistentRegion | null,
  ) {}

  static fromFile(path: string, options: FlightModuleOptions = {}): FlightModule {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      throw new ModuleError(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    return FlightModule.fromBytes(bytes, path, options);
  }

  /** Checks a module against the ABI (abi/contract.ts), prepares it with the core passes and compiles it. */
  static fromBytes(bytes: Uint8Array, source: string, options: FlightModuleOptions = {}): FlightModule {
    const passes = options.passes ?? CORE_PASSES;
    const report = inspectModule(bytes, source, { channelMap: options.channelMap, memoryLimitPages: options.memoryLimitPages });
    assertConforms(report);
    const prepared = transformBinary(bytes, passes, source);
    const compiled = new WebAssembly.Module(prepared.binary as Uint8Array<ArrayBuffer>);
    const inputs: BusImport[] = [];
    const outputs: BusImport[] = [];
    for (const entry of report.imports) {
      // The contract has checked that every other import is a bus function wired to a channel.
      if (entry.channel === null) continue;
      const channel = entry.channel;
      if (entry.direction === 'input') inputs.push({ name: entry.name, channel: IN[channel as InputChannel] });
      else if (entry.direction === 'debug') continue;
      else outputs.push({ name: entry.name, channel: OUT[channel as OutputChannel] });
    }
    const debugOutputs = report.debugOutputs.map((name, index) => ({ name, channel: OUTPUT_CHANNELS.length + index }));
    const exports = new Map(WebAssembly.Module.exports(compiled).map((entry) => [entry.name, entry.kind]));
    if (exports.get(FUEL_GLOBAL) !== 'global') throw new ModuleError(source, 'instruction counting failed to export its fuel counter');
    const stateGlobals = (prepared.reports.get('export-state') as unknown as ExportStateReport).globals;
    const dirtyTracking = (prepared.reports.get('track-dirty-memory') as DirtyMemoryReport | undefined) ?? null;
    return new FlightModule(source, compiled, inputs, outputs, debugOutputs, stateGlobals, dirtyTracking, passes, report.persistent);
  }
}
