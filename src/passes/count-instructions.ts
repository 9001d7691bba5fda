// count-instructions: gives every cycle a deterministic cost and a watchdog. A global fuel counter
// (`__lockstep_fuel`, exported) is charged with the number of instructions of each region on entry —
// a function body, a loop iteration, a taken if-arm (regions.ts) — and every loop head checks it: when
// the fuel runs out, the imported `lockstep.watchdog` is called, which stops the cycle. A flipped bit can
// make flight software spin forever; with this pass the model never hangs, and the count doubles as the
// modelled execution time of the cycle on a CPU clock. The count is charged on entry, so an early exit
// (br, return) still pays for the whole region: an over-estimate, but a deterministic one, which is all
// the timing model and the watchdog need. Recursion needs no check: it ends in a stack-overflow trap.
//
// The fuel counter is the module's first defined global: V8 reaches global 0 faster than the others,
// and the counter is charged in every region, so that a module with globals of its own (a hardened
// build's opaque zeros) would otherwise pay for the counter's place in time, not for its own code
// (docs/hardening.md has the measurement).
import binaryen, { type ExpressionRef, type Module } from './binaryen.js';
import { definedFunctions } from './expressions.js';
import type { ModulePass } from './pass.js';
import { prependToRegion, regionsOf, type Region } from './regions.js';

export const FUEL_GLOBAL = '__lockstep_fuel';
export const WATCHDOG_MODULE = 'lockstep';
export const WATCHDOG_IMPORT = 'watchdog';
const WATCHDOG_FUNCTION = '__lockstep_watchdog';
/**
 * Metered entry points: `__lockstep_metered_<export>(budget) -> fuel left` sets the budget, runs the
 * ABI entry and returns the fuel, in one call from the host instead of three global accesses.
 */
export const METERED_PREFIX = '__lockstep_metered_';
export const METERED_ENTRIES = ['init', 'step'] as const;

/** Instructions of a region: everything but the block and loop delimiters (an `if` is a branch). */
function costOf(region: Region): number {
  let cost = 0;
  for (const member of region.members) {
    const id = binaryen.getExpressionId(member);
    if (id !== binaryen.BlockId && id !== binaryen.LoopId) cost++;
  }
  return cost;
}

/**
 * Makes the defined global `name` the first of the defined globals: every other one is removed and added
 * again, after it, in its order (globals are referred to by name, so their uses and exports follow).
 */
function placeFirst(module: Module, name: string): void {
  const others = [];
  for (let i = 0; i < module.getNumGlobals(); i++) {
    const info = binaryen.getGlobalInfo(module.getGlobalByIndex(i));
    if (info.name !== name && !info.module) others.push(info);
  }
  for (const info of others) {
    const init = module.copyExpression(info.init);
    module.removeGlobal(info.name);
    module.addGlobal(info.name, info.type, info.mutable, init);
  }
}

export const countInstructions: ModulePass = {
  name: 'count-instructions',
  description: 'charge a fuel counter per region and stop a cycle whose fuel runs out (the watchdog)',
  run(module: Module) {
    const functions = definedFunctions(module);
    module.addGlobal(FUEL_GLOBAL, binaryen.i32, true, module.i32.const(0));
    module.addGlobalExport(FUEL_GLOBAL, FUEL_GLOBAL);
    placeFirst(module, FUEL_GLOBAL);
    module.addFunctionImport(WATCHDOG_FUNCTION, WATCHDOG_MODULE, WATCHDOG_IMPORT, binaryen.none, binaryen.none);

    const charge = (cost: number): ExpressionRef =>
      module.global.set(FUEL_GLOBAL, module.i32.sub(module.global.get(FUEL_GLOBAL, binaryen.i32), module.i32.const(cost)));
    const checkFuel = (): ExpressionRef =>
      module.if(
        module.i32.lt_s(module.global.get(FUEL_GLOBAL, binaryen.i32), module.i32.const(0)),
        module.block(null, [module.call(WATCHDOG_FUNCTION, [], binaryen.none), module.unreachable()]),
      );

    for (const fn of functions) {
      // Regions are all found before any is instrumented, so that added code is never counted.
      for (const region of regionsOf(fn)) {
        const prefix = [charge(costOf(region))];
        if (region.kind === 'loop') prefix.push(checkFuel());
        prependToRegion(module, region, prefix);
      }
    }

    for (const entry of METERED_ENTRIES) {
      const exported = module.getExport(entry);
      if (!exported) continue;
      const info = binaryen.getExportInfo(exported);
      if (info.kind !== binaryen.ExternalFunction) continue;
      const name = METERED_PREFIX + entry;
      module.addFunction(
        name,
        binaryen.i32,
        binaryen.i32,
        [],
        module.block(null, [
          module.global.set(FUEL_GLOBAL, module.local.get(0, binaryen.i32)),
          module.call(info.value, [], binaryen.none),
          module.global.get(FUEL_GLOBAL, binaryen.i32),
        ], binaryen.i32),
      );
      module.addFunctionExport(name, name);
    }
  },
};
