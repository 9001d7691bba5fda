// rewrite.ts: replacing a child by position, for every expression kind, and the walk with parents. The
// property: on random small modules (random-module.ts), wrapping every expression where it stands —
// in a block, after a nop, or through a local — keeps the module valid and every observable of a run
// (result or trap, memory, globals, the order and arguments of host calls) identical.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import binaryen, { addLocal, type ExpressionRef, type Module } from '../src/passes/binaryen.js';
import { childrenOf, definedFunctions, walkPostOrder } from '../src/passes/expressions.js';
import { readModule } from '../src/passes/index.js';
import { blockAround, NO_PARENT, replaceChild, REWRITABLE_KINDS, walkWithParents, wrapSlot } from '../src/passes/rewrite.js';
import { choicesArbitrary, randomModuleText, runModule, sameOutcome, watWithFeatures } from './random-module.js';

const B = binaryen;

type Wrapping = 'block' | 'nop' | 'local';

/** Wraps every expression of every function where it stands, checking the positions as it goes. */
function wrapEverything(module: Module, how: (n: number) => Wrapping): number {
  let wrapped = 0;
  for (const fn of definedFunctions(module)) {
    const name = B.getFunctionInfo(fn).name;
    const temps = new Map<number, number>();
    walkWithParents(B.getFunctionInfo(fn).body, name, (expr, parent, index) => {
      const type = B.getExpressionType(expr);
      const mode = how(wrapped);
      let replacement: ExpressionRef;
      if (mode === 'local' && type !== B.none && type !== B.unreachable) {
        if (!temps.has(type)) temps.set(type, addLocal(fn, type));
        const temp = temps.get(type)!;
        replacement = module.block(null, [module.local.set(temp, expr), module.local.get(temp, type)], type);
      } else {
        replacement = blockAround(module, expr, mode === 'nop' ? [module.nop()] : []);
      }
      if (parent === NO_PARENT) {
        expect(index).toBe(-1);
        expect(B.getFunctionInfo(fn).body).toBe(expr);
        B.Function.setBody(fn, replacement);
      } else {
        const before = childrenOf(parent, name);
        expect(before[index]).toBe(expr);
        replaceChild(parent, index, replacement);
        const after = childrenOf(parent, name);
        expect(after).toEqual(before.map((child, i) => (i === index ? replacement : child)));
      }
      wrapped++;
    });
  }
  return wrapped;
}

function rewritten(bytes: Uint8Array, how: (n: number) => Wrapping): Uint8Array {
  const module = readModule(bytes, 'random.wasm');
  try {
    expect(wrapEverything(module, how)).toBeGreaterThan(0);
    expect(module.validate()).toBeTruthy();
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

describe('walkWithParents', () => {
  it('visits what walkPostOrder visits, in the same order, each with its parent and position', () => {
    fc.assert(
      fc.property(choicesArbitrary, (choices) => {
        const module = readModule(watWithFeatures(randomModuleText(choices)), 'random.wasm');
        try {
          for (const fn of definedFunctions(module)) {
            const { name, body } = B.getFunctionInfo(fn);
            const plain: ExpressionRef[] = [];
            walkPostOrder(body, name, (expr) => plain.push(expr));
            const withParents: ExpressionRef[] = [];
            walkWithParents(body, name, (expr, parent, index) => {
              withParents.push(expr);
              if (parent === NO_PARENT) expect(expr).toBe(body);
              else expect(childrenOf(parent, name)[index]).toBe(expr);
            });
            expect(withParents).toEqual(plain);
          }
        } finally {
          module.dispose();
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('replaceChild', () => {
  it('wrapping every expression in a block keeps random modules valid and their runs identical', () => {
    fc.assert(
      fc.property(choicesArbitrary, fc.constantFrom<Wrapping>('block', 'nop'), (choices, mode) => {
        const bytes = watWithFeatures(randomModuleText(choices));
        expect(sameOutcome(runModule(rewritten(bytes, () => mode)), runModule(bytes))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('passing every value through a local where it stands keeps runs identical (evaluation order holds)', () => {
    fc.assert(
      fc.property(choicesArbitrary, fc.nat(2), (choices, offset) => {
        const bytes = watWithFeatures(randomModuleText(choices));
        const modes: Wrapping[] = ['local', 'block', 'nop'];
        expect(sameOutcome(runModule(rewritten(bytes, (n) => modes[(n + offset) % 3])), runModule(bytes))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('knows every kind childrenOf knows (the 36 of expressions.ts\'s table)', () => {
    const module = new B.Module();
    try {
      const samples = [
        module.block(null, [module.nop()]),
        module.if(module.i32.const(1), module.nop()),
        module.loop('l', module.nop()),
        module.br('l'),
        module.call('f', [], B.none),
        module.local.get(0, B.i32),
        module.i32.const(0),
        module.unreachable(),
        module.memory.size(),
        module.data.drop('d'),
      ];
      for (const sample of samples) {
        expect(() => childrenOf(sample, 'probe')).not.toThrow();
        expect(REWRITABLE_KINDS.has(B.getExpressionId(sample))).toBe(true);
      }
      expect(REWRITABLE_KINDS.size).toBe(36);
    } finally {
      module.dispose();
    }
  });

  it('maps positions over absent optional children: if without else, br with a value or a condition, return', () => {
    const module = new B.Module();
    try {
      const c = () => module.i32.const(1);
      const noElse = module.if(c(), module.nop());
      expect(() => replaceChild(noElse, 2, module.nop())).toThrow(RangeError);
      const arm = module.nop();
      replaceChild(noElse, 1, arm);
      expect(B.If.getIfTrue(noElse)).toBe(arm);

      const brIf = module.br('x', c());
      const cond = c();
      replaceChild(brIf, 0, cond);
      expect(B.Break.getCondition(brIf)).toBe(cond);
      expect(() => replaceChild(brIf, 1, c())).toThrow(RangeError);

      const brValue = module.br('x', undefined, c());
      const value = c();
      replaceChild(brValue, 0, value);
      expect(B.Break.getValue(brValue)).toBe(value);

      const brBoth = module.br('x', c(), c());
      const [v2, c2] = [c(), c()];
      replaceChild(brBoth, 1, c2);
      replaceChild(brBoth, 0, v2);
      expect([B.Break.getValue(brBoth), B.Break.getCondition(brBoth)]).toEqual([v2, c2]);

      const table = module.switch(['a'], 'a', c());
      const index = c();
      replaceChild(table, 0, index);
      expect(B.Switch.getCondition(table)).toBe(index);

      expect(() => replaceChild(module.return(), 0, c())).toThrow(RangeError);
      const returned = c();
      const ret = module.return(c());
      replaceChild(ret, 0, returned);
      expect(B.Return.getValue(ret)).toBe(returned);

      const indirect = module.call_indirect('t', c(), [c(), c()], B.createType([B.i32, B.i32]), B.none);
      const target = c();
      replaceChild(indirect, 2, target);
      expect(B.CallIndirect.getTarget(indirect)).toBe(target);
      expect(() => replaceChild(indirect, 3, c())).toThrow(RangeError);

      const select = module.select(c(), c(), c());
      const condition = c();
      replaceChild(select, 2, condition);
      expect(B.Select.getCondition(select)).toBe(condition);

      expect(() => replaceChild(module.i32.const(0), 0, c())).toThrow(RangeError);
      expect(() => replaceChild(module.local.get(0, B.i32), 0, c())).toThrow(RangeError);
      expect(() => replaceChild(module.block(null, [c()]), -1, c())).toThrow(RangeError);
      expect(() => replaceChild(module.block(null, [c()]), 0.5, c())).toThrow(RangeError);
    } finally {
      module.dispose();
    }
  });

  it('wrapSlot wraps what stands in a slot now, so wrappers compose (the function body too)', () => {
    const bytes = watWithFeatures(`(module (import "env" "ext" (func $ext (param i32) (result i32)))
      (memory (export "memory") 1) (global $g (export "g") (mut i32) (i32.const 0))
      (global $g64 (export "g64") (mut i64) (i64.const 0)) (global $gf (export "gf") (mut f64) (f64.const 0))
      (func (export "run") (result i32) (i32.add (call $ext (i32.const 1)) (call $ext (i32.const 2)))))`);
    const module = readModule(bytes, 'compose.wasm');
    const fn = definedFunctions(module)[0];
    const body = B.getFunctionInfo(fn).body;
    // Function imports read from a binary are named by index in Binaryen: find the import's name.
    const ext = B.getFunctionInfo(module.getFunctionByIndex(0)).name;
    const call = (n: number) => module.drop(module.call(ext, [module.i32.const(n)], B.i32));
    wrapSlot({ fn, parent: body, index: 1 }, (current) => blockAround(module, current, [call(10)]));
    wrapSlot({ fn, parent: body, index: 1 }, (current) => blockAround(module, current, [call(20)]));
    wrapSlot({ fn, parent: NO_PARENT, index: -1 }, (current) => blockAround(module, current, [call(30)]));
    expect(module.validate()).toBeTruthy();
    const outcome = runModule(module.emitBinary());
    module.dispose();
    expect(outcome.calls).toBe('30,1,20,10,2');
    expect(outcome.result).toBe(`ok ${3 * 1 + 1 + 3 * 2 + 1}`);
  });
});
