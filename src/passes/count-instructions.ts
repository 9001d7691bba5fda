// count-instructions: gives every cycle a deterministic cost and a watchdog. A global fuel counter
// (`__lockstep_fuel`, exported) is charged with the number of instructions of each region on entry —
// a function body, a loop iteration, a taken if-arm (blocks belong to the region that contains them) —
// and every loop head checks it: when the fuel runs out, the imported `lockstep.watchdog` is called,
// which stops the cycle. A flipped bit can make flight software spin forever; with this pass the model
// never hangs, and the count doubles as the modelled execution time of the cycle on a CPU clock.
// The count is charged on entry, so an early exit (br, return) still pays for the whole region: an
// over-estimate, but a deterministic one, which is what the timing model and the watchdog need.
import binaryen, { type ExpressionRef, type Module } from './binaryen.js';
import { childrenOf, definedFunctions, isStructural } from './expressions.js';
import type { ModulePass } from './pass.js';

export const FUEL_GLOBAL = '__lockstep_fuel';
export const WATCHDOG_MODULE = 'lockstep';
export const WATCHDOG_IMPORT = 'watchdog';
const WATCHDOG_FUNCTION = '__lockstep_watchdog';

/** Guards the recursive region walk against pathological nesting. */
const MAX_NESTING = 10_000;

interface Region {
  /** The expression whose entry is charged. */
  readonly root: ExpressionRef;
  readonly cost: number;
}

interface Regions {
  loops: Region[];
  ifArms: Array<Region & { owner: ExpressionRef; arm: 'ifTrue' | 'ifFalse' }>;
  bodyCost: number;
}

/**
 * Counts the instructions of the region that starts at `root`, stopping at nested regions (loop bodies,
 * if-arms), which are recorded with their own cost.
 */
function costOfRegion(root: ExpressionRef, functionName: string, regions: Regions, depth: number): number {
  if (depth > MAX_NESTING) throw new Error(`function ${functionName}: control flow nested deeper than ${MAX_NESTING}`);
  const id = binaryen.getExpressionId(root);
  if (id === binaryen.LoopId) {
    const body = binaryen.Loop.getBody(root);
    regions.loops.push({ root, cost: costOfRegion(body, functionName, regions, depth + 1) });
    return 0;
  }
  if (id === binaryen.IfId) {
    const condition = binaryen.If.getCondition(root);
    const ifTrue = binaryen.If.getIfTrue(root);
    const ifFalse = binaryen.If.getIfFalse(root);
    regions.ifArms.push({
      owner: root,
      arm: 'ifTrue',
      root: ifTrue,
      cost: costOfRegion(ifTrue, functionName, regions, depth + 1),
    });
    if (ifFalse) {
      regions.ifArms.push({
        owner: root,
        arm: 'ifFalse',
        root: ifFalse,
        cost: costOfRegion(ifFalse, functionName, regions, depth + 1),
      });
    }
    return 1 + costOfRegion(condition, functionName, regions, depth + 1);
  }
  let cost = isStructural(root) ? 0 : 1;
  for (const child of childrenOf(root, functionName)) cost += costOfRegion(child, functionName, regions, depth + 1);
  return cost;
}

export const countInstructions: ModulePass = {
  name: 'count-instructions',
  description: 'charge a fuel counter per region and stop a cycle whose fuel runs out (the watchdog)',
  run(module: Module) {
    const functions = definedFunctions(module);
    module.addGlobal(FUEL_GLOBAL, binaryen.i32, true, module.i32.const(0));
    module.addGlobalExport(FUEL_GLOBAL, FUEL_GLOBAL);
    module.addFunctionImport(WATCHDOG_FUNCTION, WATCHDOG_MODULE, WATCHDOG_IMPORT, binaryen.none, binaryen.none);

    const charge = (cost: number): ExpressionRef =>
      module.global.set(
        FUEL_GLOBAL,
        module.i32.sub(module.global.get(FUEL_GLOBAL, binaryen.i32), module.i32.const(cost)),
      );
    const checkFuel = (): ExpressionRef =>
      module.if(
        module.i32.lt_s(module.global.get(FUEL_GLOBAL, binaryen.i32), module.i32.const(0)),
        module.block(null, [module.call(WATCHDOG_FUNCTION, [], binaryen.none), module.unreachable()]),
      );
    const prepend = (prefix: ExpressionRef[], body: ExpressionRef): ExpressionRef =>
      module.block(null, [...prefix, body], binaryen.getExpressionType(body));

    for (const fn of functions) {
      const info = binaryen.getFunctionInfo(fn);
      const regions: Regions = { loops: [], ifArms: [], bodyCost: 0 };
      regions.bodyCost = costOfRegion(info.body, info.name, regions, 0);
      for (const loop of regions.loops) {
        binaryen.Loop.setBody(loop.root, prepend([charge(loop.cost), checkFuel()], binaryen.Loop.getBody(loop.root)));
      }
      for (const arm of regions.ifArms) {
        const wrapped = prepend([charge(arm.cost)], arm.root);
        if (arm.arm === 'ifTrue') binaryen.If.setIfTrue(arm.owner, wrapped);
        else binaryen.If.setIfFalse(arm.owner, wrapped);
      }
      binaryen.Function.setBody(fn, prepend([charge(regions.bodyCost)], info.body));
    }
  },
};
