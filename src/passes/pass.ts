// What a module pass is: a named transformation of a Binaryen module, in place. Passes compose by
// running in sequence (see index.ts); each must leave the module valid, or refuse the module.
import type { Module } from './binaryen.js';

export interface ModulePass {
  readonly name: string;
  readonly description: string;
  /** Transforms the module in place; may return a report of what it found or added. */
  run(module: Module): PassReport | void;
}

export type PassReport = object;

/**
 * A module a pass cannot transform, with the reason (the caller names the module): EDDI on an imported
 * memory, a module hardened twice. The module's limit, not a bug of the pass.
 */
export class PassRefusal extends Error {}

/**
 * What every pass names the code, globals and imports it adds with: later passes recognise lockstep's
 * instrumentation by it and leave it alone (fault hooks put no sites in it, hardening neither duplicates
 * nor checks it).
 */
export const LOCKSTEP_PREFIX = '__lockstep_';

export const isLockstepName = (name: string | null | undefined): boolean => typeof name === 'string' && name.startsWith(LOCKSTEP_PREFIX);
