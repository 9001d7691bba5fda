// What a module pass is: a named transformation of a Binaryen module, in place. Passes compose by
// running in sequence (see index.ts); each must leave the module valid.
import type { Module } from './binaryen.js';

export interface ModulePass {
  readonly name: string;
  readonly description: string;
  /** Transforms the module in place; may return a report of what it found or added. */
  run(module: Module): PassReport | void;
}

export type PassReport = object;
