// The flight-software ABI as a contract a module can be checked against (docs/abi.md): what it exports
// and imports, with which signatures, how its imports map onto bus channels, its memory, globals and functions, and the size of the fault space each upset target offers. `lockstep
// inspect` prints this report; every core is loaded only after its module passed it, so a module that
// breaks the contract is refused with one message naming the export or import at fault.
import binaryen from '../passes/binaryen.js';
import { walkPostOrder, definedFunctions, isStructural } from '../passes/expressions.js';
import { ModuleError, readModule } from '../passes/index.js';
import { CHECK_IMPORT, CHECK_MODULE } from '../passes/checks.js';
import type { ValueTypeName } from '../passes/export-state.js';
import { STORAGE_TARGETS } from '../faults/fault.js';
import { faultDomains, storageBitsByTarget } from '../faults/fault-space.js';
import { ABORT_IMPORT, ABORT_MODULE, ABORT_SIGNATURE } from './abort.js';
import { BUS_MODULE, DEBUG_MODULE, DEBUG_NAME_PATTERN, IN, INPUT_CHANNELS, MAX_DEBUG_OUTPUTS, OUT, OUTPUT_CHANNELS } from './channels.js';
import { readPersistentRegion, type PersistentRegion } from './persistent-region.js';

export type ValueType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'other';

export interface ImportReport {
  readonly module: string;
  readonly name: string;
  readonly kind: 'function' | 'global' | 'memory' | 'table';
  readonly signature: string | null;
  /** The bus channel the import is wired to (through the channel map), or a debug output's name, or null. */
  readonly channel: string | null;
  readonly direction: 'input' | 'output' | 'debug' | null;
}

export interface ExportReport {
  readonly name: string;
  readonly kind: 'function' | 'global' | 'memory' | 'table' | 'tag';
  readonly signature: string | null;
}

export interface GlobalReport {
  readonly name: string;
  readonly type: ValueType;
  readonly mutable: boolean;
  readonly imported: boolean;
}

export interface ModuleReport {
  readonly source: string;
  readonly bytes: number;
  readonly exports: ExportReport[];
  readonly imports: ImportReport[];
  readonly globals: GlobalReport[];
  readonly memory: { initialPages: number; maxPages: number | null; exported: boolean } | null;
  readonly startFunction: string | null;
  /** The persistent region the module declares (persistent_offset, persistent_length), or null. */
  readonly persistent: PersistentRegion | null;
  /** The debug outputs the module writes (imports from module "debug"), by name in alphabetical order. */
  readonly debugOutputs: string[];
  /** Whether the module imports AssemblyScript's `env.abort`. */
  readonly importsAbort: boolean;
  readonly functions: { defined: number; imported: number; instructions: number; largest: Array<{ name: string; instructions: number }> };
  /** Bits an upset can strike in one core, and in the checkpoint, before any cycle runs. */
  readonly faultSpace: { memoryBitsPerCore: number; globalBitsPerCore: number; checkpointBits: number };
  /** What breaks the contract; empty for a conforming module. */
  readonly problems: string[];
}

export interface ContractOptions {
  /** Module import name → bus channel, for modules whose imports are named otherwise. */
  readonly channelMap?: Readonly<Record<string, string>>;
  /** Largest memory a core may start with, 64 KiB pages. */
  readonly memoryLimitPages?: number;
}

const KIND_NAMES: Record<number, ImportReport['kind']> = {
  [binaryen.ExternalFunction]: 'function',
  [binaryen.ExternalGlobal]: 'global',
  [binaryen.ExternalMemory]: 'memory',
  [binaryen.ExternalTable]: 'table',
};

function valueType(type: number): ValueType {
  if (type === binaryen.i32) return 'i32';
  if (type === binaryen.i64) return 'i64';
  if (type === binaryen.f32) return 'f32';
  if (type === binaryen.f64) return 'f64';
  if (type === binaryen.v128) return 'v128';
  return 'other';
}

function signatureOf(params: number, results: number): string {
  const list = (type: number) => binaryen.expandType(type).map(valueType).join(', ');
  return `(${list(params)}) -> (${list(results)})`;
}

const INPUT_SIGNATURE = '() -> (f64)';
const OUTPUT_SIGNATURE = '(f64) -> ()';
const ENTRY_SIGNATURE = '() -> ()';

/** Reads a module and reports it against the contract. Throws ModuleError only for undecodable input. */
export function inspectModule(bytes: Uint8Array, source: string, options: ContractOptions = {}): ModuleReport {
  const module = readModule(bytes, source);
  try {
    const problems: string[] = [];
    const channelMap = options.channelMap ?? {};
    const functionNames = new Map<string, { params: number; results: number }>();
    const imports: ImportReport[] = [];
    let importedFunctions = 0;
    const importedNames = new Set<string>();
    const debugOutputs: string[] = [];
    let importsAbort = false;

    for (let i = 0; i < module.getNumFunctions(); i++) {
      const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
      functionNames.set(info.name, { params: info.params, results: info.results });
      if (!info.module) continue;
      importedFunctions++;
      const base = info.base ?? '';
      importedNames.add(base);
      const signature = signatureOf(info.params, info.results);
      let channel: string | null = null;
      let direction: ImportReport['direction'] = null;
      if (info.module === CHECK_MODULE && base === CHECK_IMPORT) {
        // A hardened module (EDDI, SWIFT) reports its failed checks here; the core provides it.
        if (signature !== '(i32) -> ()') problems.push(`import "${CHECK_MODULE}"."${CHECK_IMPORT}": has the signature ${signature}; it must be (i32) -> ()`);
        imports.push({ module: info.module, name: base, kind: 'function', signature, channel: null, direction: null });
        continue;
      }
      if (info.module === ABORT_MODULE && base === ABORT_IMPORT) {
        // AssemblyScript's failed asserts and runtime checks report here (abi/abort.ts); the core provides it.
        importsAbort = true;
        if (signature !== ABORT_SIGNATURE) problems.push(`import "${ABORT_MODULE}"."${ABORT_IMPORT}": has the signature ${signature}; it must be ${ABORT_SIGNATURE} (AssemblyScript's abort)`);
        imports.push({ module: info.module, name: base, kind: 'function', signature, channel: null, direction: null });
        continue;
      }
      if (info.module === DEBUG_MODULE) {
        const problem = debugOutputProblem(base, signature, debugOutputs);
        if (problem) problems.push(`import "${DEBUG_MODULE}"."${base}": ${problem}`);
        else if (!debugOutputs.includes(base)) debugOutputs.push(base);
        imports.push({ module: info.module, name: base, kind: 'function', signature, channel: problem ? null : base, direction: problem ? null : 'debug' });
        continue;
      }
      if (info.module !== BUS_MODULE) {
        problems.push(
          `import "${info.module}"."${base}": flight software may import only from module "${BUS_MODULE}", debug outputs from "${DEBUG_MODULE}" and AssemblyScript's "${ABORT_MODULE}"."${ABORT_IMPORT}" (no clock, no randomness, no host services)`,
        );
      } else {
        const wanted = channelMap[base] ?? base;
        if (wanted in IN) {
          channel = wanted;
          direction = 'input';
          if (signature !== INPUT_SIGNATURE) problems.push(`import "bus"."${base}": input channel ${wanted} has the signature ${INPUT_SIGNATURE}, not ${signature}`);
        } else if (wanted in OUT) {
          channel = wanted;
          direction = 'output';
          if (signature !== OUTPUT_SIGNATURE) problems.push(`import "bus"."${base}": output channel ${wanted} has the signature ${OUTPUT_SIGNATURE}, not ${signature}`);
        } else {
          problems.push(`import "bus"."${base}": the bus has no channel "${wanted}" (inputs: ${INPUT_CHANNELS.join(', ')}; outputs: ${OUTPUT_CHANNELS.join(', ')})`);
        }
      }
      imports.push({ module: info.module, name: base, kind: 'function', signature, channel, direction });
    }
    // By name: telemetry columns in an order that does not depend on how a compiler ordered the imports.
    debugOutputs.sort();
    const busOrder = (entry: ImportReport) => {
      if (entry.channel === null) return Number.MAX_SAFE_INTEGER;
      if (entry.direction === 'input') return IN[entry.channel as keyof typeof IN];
      if (entry.direction === 'output') return 1000 + OUT[entry.channel as keyof typeof OUT];
      return 2000 + debugOutputs.indexOf(entry.channel);
    };
    imports.sort((a, b) => busOrder(a) - busOrder(b));
    for (let i = 0; i < module.getNumGlobals(); i++) {
      const info = binaryen.getGlobalInfo(module.getGlobalByIndex(i));
      if (!info.module) continue;
      problems.push(`import "${info.module}"."${info.base ?? ''}": flight software may import only bus functions, not globals`);
      imports.push({ module: info.module, name: info.base ?? '', kind: 'global', signature: null, channel: null, direction: null });
    }
    const memoryInfo = module.hasMemory() ? module.getMemoryInfo() : null;
    if (memoryInfo?.module) {
      problems.push(`import "${memoryInfo.module}"."${memoryInfo.base}": flight software must define its own memory, not import one`);
      imports.push({ module: memoryInfo.module, name: memoryInfo.base ?? '', kind: 'memory', signature: null, channel: null, direction: null });
    }
    for (const [importName, channel] of Object.entries(channelMap)) {
      if (!importedNames.has(importName)) problems.push(`channel map: the module does not import "${importName}" (mapped to ${channel})`);
      else if (!(channel in IN) && !(channel in OUT)) problems.push(`channel map: "${importName}" is mapped to "${channel}", which is no bus channel`);
    }

    const exports: ExportReport[] = [];
    let memoryExported = false;
    for (let i = 0; i < module.getNumExports(); i++) {
      const info = binaryen.getExportInfo(module.getExportByIndex(i));
      const kind = (KIND_NAMES[info.kind] ?? 'tag') as ExportReport['kind'];
      let signature: string | null = null;
      if (kind === 'function') {
        const fn = functionNames.get(info.value);
        signature = fn ? signatureOf(fn.params, fn.results) : null;
      }
      if (kind === 'memory') memoryExported = true;
      exports.push({ name: info.name, kind, signature });
    }
    for (const entry of ['init', 'step']) {
      const found = exports.find((e) => e.name === entry);
      if (!found) problems.push(`export "${entry}": missing; the ABI needs init and step, both ${ENTRY_SIGNATURE}`);
      else if (found.kind !== 'function') problems.push(`export "${entry}": is a ${found.kind}; it must be a function ${ENTRY_SIGNATURE}`);
      else if (found.signature !== ENTRY_SIGNATURE) problems.push(`export "${entry}": has the signature ${found.signature}; it must be ${ENTRY_SIGNATURE}`);
    }
    const memoryExport = exports.find((e) => e.name === 'memory');
    if (memoryExport && memoryExport.kind !== 'memory') problems.push(`export "memory": is a ${memoryExport.kind}; it must be the linear memory`);
    if (!memoryInfo) problems.push('memory: the module has none; flight software keeps its state in linear memory');
    if (memoryInfo && options.memoryLimitPages !== undefined && memoryInfo.initial > options.memoryLimitPages) {
      problems.push(`memory: starts with ${memoryInfo.initial} pages, more than the limit of ${options.memoryLimitPages} (memoryLimitPages)`);
    }
    if (memoryInfo?.shared) problems.push('memory: shared memory is not allowed (a core owns its memory)');

    const startRef = module.getStart();
    const startFunction = startRef ? binaryen.getFunctionInfo(startRef).name : null;
    if (startFunction) {
      problems.push(`start function ${startFunction}: not allowed; it runs at instantiation, outside the instruction budget and the comparator — do the setup in init`);
    }

    const persistent = readPersistentRegion(module, memoryInfo ? memoryInfo.initial * 65536 : null);
    problems.push(...persistent.problems);

    const globals: GlobalReport[] = [];
    const stateTypes: ValueTypeName[] = [];
    for (let i = 0; i < module.getNumGlobals(); i++) {
      const info = binaryen.getGlobalInfo(module.getGlobalByIndex(i));
      const type = valueType(info.type);
      globals.push({ name: info.name, type, mutable: info.mutable, imported: Boolean(info.module) });
      if (info.mutable && !info.module) {
        if (type === 'v128' || type === 'other') problems.push(`global ${info.name}: a mutable ${type} global cannot be checkpointed (i32, i64, f32, f64 only)`);
        else stateTypes.push(type);
      }
    }

    // A module stripped of names (asc, wasm-ld --strip-all) calls its functions by number: its exports
    // name them better.
    const exportedAs = new Map<string, string>();
    for (let i = 0; i < module.getNumExports(); i++) {
      const info = binaryen.getExportInfo(module.getExportByIndex(i));
      if (info.kind === binaryen.ExternalFunction && !exportedAs.has(info.value)) exportedAs.set(info.value, info.name);
    }
    const displayName = (name: string) => exportedAs.get(name) ?? (/^\d+$/.test(name) ? `function #${name}` : name);
    const counts: Array<{ name: string; instructions: number }> = [];
    let instructions = 0;
    for (const fn of definedFunctions(module)) {
      const info = binaryen.getFunctionInfo(fn);
      let count = 0;
      try {
        walkPostOrder(info.body, info.name, (expr) => {
          if (!isStructural(expr)) count++;
        });
      } catch (error) {
        problems.push((error as Error).message);
      }
      counts.push({ name: displayName(info.name), instructions: count });
      instructions += count;
    }
    counts.sort((a, b) => b.instructions - a.instructions || a.name.localeCompare(b.name));

    // The fault space of one core and of the checkpoint, as fly and campaigns draw faults from it.
    const space = storageBitsByTarget(faultDomains({ memoryBytes: (memoryInfo?.initial ?? 0) * 65536, globalTypes: stateTypes }, STORAGE_TARGETS, [{ processor: 'primary', core: 'A' }]));
    return {
      source,
      bytes: bytes.length,
      exports,
      imports,
      globals,
      memory: memoryInfo ? { initialPages: memoryInfo.initial, maxPages: memoryInfo.max ?? null, exported: memoryExported } : null,
      startFunction,
      persistent: persistent.region,
      debugOutputs,
      importsAbort,
      functions: { defined: counts.length, imported: importedFunctions, instructions, largest: counts.slice(0, 10) },
      faultSpace: { memoryBitsPerCore: space.memory ?? 0, globalBitsPerCore: space.global ?? 0, checkpointBits: space.checkpoint ?? 0 },
      problems,
    };
  } finally {
    module.dispose();
  }
}

/** What is wrong with a debug output import (null: nothing), given the debug outputs accepted so far. */
function debugOutputProblem(name: string, signature: string, accepted: readonly string[]): string | null {
  if (signature !== OUTPUT_SIGNATURE) return `a debug output has the signature ${OUTPUT_SIGNATURE}, not ${signature}`;
  if (!DEBUG_NAME_PATTERN.test(name)) return 'a debug output\'s name is 1 to 64 letters, digits and _, not starting with a digit (it names a telemetry column)';
  if (!accepted.includes(name) && accepted.length >= MAX_DEBUG_OUTPUTS) return `one debug output too many; a module may have at most ${MAX_DEBUG_OUTPUTS}`;
  return null;
}

/** Throws a ModuleError naming the first way the module breaks the contract. */
export function assertConforms(report: ModuleReport): void {
  if (report.problems.length > 0) {
    const more = report.problems.length > 1 ? ` (and ${report.problems.length - 1} more; \`lockstep inspect\` lists them)` : '';
    throw new ModuleError(report.source, `${report.problems[0]}${more}`);
  }
}
