// A flight-software module prepared for flight: read, checked against the flight-software ABI
// (README), transformed by the core passes (state export, instruction counting) and compiled once.
// Every core — both cores of both processors, the oracle — is an instance of this one compiled
// WebAssembly.Module, which is what makes two cores run the same instructions.
import { readFileSync } from 'node:fs';
import { BUS_MODULE, IN, OUT, type InputChannel, type OutputChannel } from '../abi/channels.js';
import { CORE_PASSES, ModuleError, transformBinary } from '../passes/index.js';
import type { DirtyMemoryReport } from '../passes/track-dirty-memory.js';
import { FUEL_GLOBAL, WATCHDOG_IMPORT, WATCHDOG_MODULE } from '../passes/count-instructions.js';
import type { ExportStateReport, StateGlobal } from '../passes/export-state.js';

export interface BusImport {
  readonly name: string;
  readonly channel: number;
}

export class FlightModule {
  private constructor(
    readonly source: string,
    readonly compiled: WebAssembly.Module,
    readonly inputs: readonly BusImport[],
    readonly outputs: readonly BusImport[],
    /** The mutable globals that make up a core's state, in a fixed order. */
    readonly stateGlobals: readonly StateGlobal[],
    /** How memory writes are tracked, or null when the module was built without dirty tracking. */
    readonly dirtyTracking: DirtyMemoryReport | null,
    /** The passes the module was prepared with. */
    readonly passes: readonly string[],
  ) {}

  static fromFile(path: string, passes: readonly string[] = CORE_PASSES): FlightModule {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      throw new ModuleError(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    return FlightModule.fromBytes(bytes, path, passes);
  }

  static fromBytes(bytes: Uint8Array, source: string, passes: readonly string[] = CORE_PASSES): FlightModule {
    const prepared = transformBinary(bytes, passes, source);
    const compiled = new WebAssembly.Module(prepared.binary as Uint8Array<ArrayBuffer>);
    const inputs: BusImport[] = [];
    const outputs: BusImport[] = [];
    for (const entry of WebAssembly.Module.imports(compiled)) {
      if (entry.module === WATCHDOG_MODULE && entry.name === WATCHDOG_IMPORT) continue;
      if (entry.module !== BUS_MODULE) {
        throw new ModuleError(source, `imports "${entry.module}"."${entry.name}", but flight software may import only from module "${BUS_MODULE}"`);
      }
      if (entry.kind !== 'function') {
        throw new ModuleError(source, `imports "${entry.module}"."${entry.name}" as a ${entry.kind}; bus channels are functions`);
      }
      if (entry.name in IN) inputs.push({ name: entry.name, channel: IN[entry.name as InputChannel] });
      else if (entry.name in OUT) outputs.push({ name: entry.name, channel: OUT[entry.name as OutputChannel] });
      else {
        throw new ModuleError(
          source,
          `imports bus channel "${entry.name}", which the bus does not offer (inputs: ${Object.keys(IN).join(', ')}; outputs: ${Object.keys(OUT).join(', ')})`,
        );
      }
    }
    const exports = new Map(WebAssembly.Module.exports(compiled).map((entry) => [entry.name, entry.kind]));
    for (const required of ['init', 'step']) {
      if (exports.get(required) !== 'function') {
        throw new ModuleError(source, `must export a function "${required}" (the flight-software ABI: init and step)`);
      }
    }
    if (exports.get('memory') !== 'memory') throw new ModuleError(source, 'has no linear memory; flight software keeps its state in memory');
    if (exports.get(FUEL_GLOBAL) !== 'global') throw new ModuleError(source, 'instruction counting failed to export its fuel counter');
    const stateGlobals = (prepared.reports.get('export-state') as unknown as ExportStateReport).globals;
    const dirtyTracking = (prepared.reports.get('track-dirty-memory') as DirtyMemoryReport | undefined) ?? null;
    return new FlightModule(source, compiled, inputs, outputs, stateGlobals, dirtyTracking, passes);
  }
}
