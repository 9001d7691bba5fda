// profile-functions: counts the instructions each function executes, for `inspect --profile`. It runs
// after count-instructions and adds, beside each fuel charge that pass put in a function, the same
// amount to that function's own counter: so a function's count is exactly what the watchdog charged for
// its code (self time, callees not included), and the counts of a cycle add up to the cycle's
// instructions, by construction. Profiling is a measurement, never flown: cores are not built with it.
//
// Host interface: one exported mutable i32 global per defined function that has charges, named
// PROFILE_PREFIX + the function's name; the host reads and zeroes them between runs.
import binaryen, { globalName, type ExpressionRef } from './binaryen.js';
import { FUEL_GLOBAL } from './count-instructions.js';
import { definedFunctions } from './expressions.js';
import { isLockstepName, type ModulePass } from './pass.js';
import { replaceChild, walkWithParents, NO_PARENT } from './rewrite.js';

const B = binaryen;

export const PROFILE_PREFIX = '__lockstep_profile:';

export interface ProfileReport {
  /** The functions counted, by their counter's export name. */
  readonly counters: ReadonlyArray<{ readonly function: string; readonly global: string }>;
}

/** The amount of a fuel charge (`fuel = fuel - N`), or null when `expr` is not one. */
function chargeOf(expr: ExpressionRef): number | null {
  if (B.getExpressionId(expr) !== B.GlobalSetId || globalName(expr) !== FUEL_GLOBAL) return null;
  const value = B.GlobalSet.getValue(expr);
  if (B.getExpressionId(value) !== B.BinaryId || B.Binary.getOp(value) !== B.SubInt32) return null;
  const amount = B.Binary.getRight(value);
  if (B.getExpressionId(amount) !== B.ConstId) return null;
  return (B.getExpressionInfo(amount) as unknown as { value: number }).value;
}

export const profileFunctions: ModulePass = {
  name: 'profile-functions',
  description: 'count the instructions each function executes (self), beside the fuel charges of count-instructions',
  run(module): ProfileReport {
    if (!module.getGlobal(FUEL_GLOBAL)) throw new Error('profile-functions runs after count-instructions (it counts its charges)');
    const counters: Array<{ function: string; global: string }> = [];
    for (const fn of definedFunctions(module)) {
      const { name, body } = B.getFunctionInfo(fn);
      if (isLockstepName(name)) continue;
      const charges: Array<{ expr: ExpressionRef; parent: ExpressionRef; index: number; amount: number }> = [];
      walkWithParents(body, name, (expr, parent, index) => {
        const amount = chargeOf(expr);
        if (amount !== null) charges.push({ expr, parent, index, amount });
      });
      if (charges.length === 0) continue;
      const global = PROFILE_PREFIX + name;
      module.addGlobal(global, B.i32, true, module.i32.const(0));
      module.addGlobalExport(global, global);
      counters.push({ function: name, global });
      for (const { expr, parent, index, amount } of charges) {
        const count = module.global.set(global, module.i32.add(module.global.get(global, B.i32), module.i32.const(amount)));
        const both = module.block(null, [expr, count], B.none);
        if (parent === NO_PARENT) B.Function.setBody(fn, both);
        else replaceChild(parent, index, both);
      }
    }
    return { counters };
  },
};
