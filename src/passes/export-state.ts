// export-state: exports every mutable global (as `__lockstep_global:<name>`) and the linear memory (as
// `memory` when the module does not export it already), so that the whole state of a core — its memory
// and its globals — can be read, compared, snapshotted and restored from outside at a cycle boundary.
// Wasm hides unexported globals from the host; without this pass a checkpoint would miss, for example,
// AssemblyScript's module-level variables and C's stack pointer.
import binaryen, { memoryName, type Module } from './binaryen.js';
import type { ModulePass } from './pass.js';

export const STATE_GLOBAL_PREFIX = '__lockstep_global:';
export const MEMORY_EXPORT = 'memory';

export type ValueTypeName = 'i32' | 'i64' | 'f32' | 'f64';
/** Bits of a value of each type: what an upset of a state global can flip. */
export const BITS_OF_TYPE: Record<ValueTypeName, number> = { i32: 32, i64: 64, f32: 32, f64: 64 };

export interface StateGlobal {
  /** The global's name in the module (from its name section, or Binaryen's global$N). */
  readonly name: string;
  readonly exportName: string;
  readonly type: ValueTypeName;
}

export interface ExportStateReport {
  readonly globals: StateGlobal[];
}

/** The name of a scalar value type; null for v128, tuples and reference types. */
export function scalarTypeName(type: number): ValueTypeName | null {
  if (type === binaryen.i32) return 'i32';
  if (type === binaryen.i64) return 'i64';
  if (type === binaryen.f32) return 'f32';
  if (type === binaryen.f64) return 'f64';
  return null;
}

function valueTypeName(type: number, globalName: string): ValueTypeName {
  const name = scalarTypeName(type);
  if (name === null) throw new Error(`global ${globalName}: only i32, i64, f32 and f64 globals can be part of a core's state`);
  return name;
}

export const exportState: ModulePass = {
  name: 'export-state',
  description: 'export every mutable global and the memory, so a core state can be checkpointed',
  run(module: Module): ExportStateReport {
    const globals: StateGlobal[] = [];
    const exported = new Set<string>();
    for (let i = 0; i < module.getNumExports(); i++) exported.add(binaryen.getExportInfo(module.getExportByIndex(i)).name);
    for (let i = 0; i < module.getNumGlobals(); i++) {
      const info = binaryen.getGlobalInfo(module.getGlobalByIndex(i));
      if (!info.mutable || info.module) continue;
      const exportName = STATE_GLOBAL_PREFIX + info.name;
      if (!exported.has(exportName)) module.addGlobalExport(info.name, exportName);
      globals.push({ name: info.name, exportName, type: valueTypeName(info.type, info.name) });
    }
    if (module.hasMemory() && !exported.has(MEMORY_EXPORT)) module.addMemoryExport(memoryName(module), MEMORY_EXPORT);
    return { globals };
  },
};
