// Regions: the straight-line stretches our instrumentation charges at their entry — a function body, one
// iteration of a loop, a taken if-arm. Blocks belong to the region that contains them (they do not
// repeat or branch on their own), so every instruction of a function belongs to exactly one region, and
// a prefix prepended to a region runs once each time control enters it. Shared by the passes that
// instrument per region (instruction counting, dirty-memory tracking).
import binaryen, { type ExpressionRef, type FunctionRef, type Module } from './binaryen.js';
import { childrenOf } from './expressions.js';

export type RegionKind = 'body' | 'loop' | 'if-true' | 'if-false';

export interface Region {
  readonly kind: RegionKind;
  /** The function (for 'body'), the loop or the if whose body or arm this region is. */
  readonly owner: ExpressionRef | FunctionRef;
  /** Every expression of the region, in evaluation order, not descending into nested regions. */
  readonly members: ExpressionRef[];
}

/** Guards the region walk against pathological nesting. */
const MAX_NESTING = 10_000;

export function regionsOf(fn: FunctionRef): Region[] {
  const info = binaryen.getFunctionInfo(fn);
  const regions: Region[] = [];
  const visit = (expr: ExpressionRef, region: Region, depth: number): void => {
    if (depth > MAX_NESTING) throw new Error(`function ${info.name}: control flow nested deeper than ${MAX_NESTING}`);
    const id = binaryen.getExpressionId(expr);
    if (id === binaryen.LoopId) {
      const loop: Region = { kind: 'loop', owner: expr, members: [] };
      regions.push(loop);
      visit(binaryen.Loop.getBody(expr), loop, depth + 1);
      region.members.push(expr);
      return;
    }
    if (id === binaryen.IfId) {
      visit(binaryen.If.getCondition(expr), region, depth + 1);
      const ifTrue: Region = { kind: 'if-true', owner: expr, members: [] };
      regions.push(ifTrue);
      visit(binaryen.If.getIfTrue(expr), ifTrue, depth + 1);
      const ifFalse = binaryen.If.getIfFalse(expr);
      if (ifFalse) {
        const arm: Region = { kind: 'if-false', owner: expr, members: [] };
        regions.push(arm);
        visit(ifFalse, arm, depth + 1);
      }
      region.members.push(expr);
      return;
    }
    for (const child of childrenOf(expr, info.name)) visit(child, region, depth + 1);
    region.members.push(expr);
  };
  const body: Region = { kind: 'body', owner: fn, members: [] };
  regions.push(body);
  visit(info.body, body, 0);
  return regions;
}

/** Makes `prefix` run at every entry of the region, before its own code. */
export function prependToRegion(module: Module, region: Region, prefix: ExpressionRef[]): void {
  if (prefix.length === 0) return;
  const wrap = (code: ExpressionRef) => module.block(null, [...prefix, code], binaryen.getExpressionType(code));
  switch (region.kind) {
    case 'body':
      binaryen.Function.setBody(region.owner, wrap(binaryen.Function.getBody(region.owner)));
      break;
    case 'loop':
      binaryen.Loop.setBody(region.owner, wrap(binaryen.Loop.getBody(region.owner)));
      break;
    case 'if-true':
      binaryen.If.setIfTrue(region.owner, wrap(binaryen.If.getIfTrue(region.owner)));
      break;
    case 'if-false':
      binaryen.If.setIfFalse(region.owner, wrap(binaryen.If.getIfFalse(region.owner)));
      break;
  }
}
