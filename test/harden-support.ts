// Helpers of the hardening tests (harden.test.ts, harden-turbofan.test.ts): original and hardened runs
// compared, check sites counted in a binary, Binaryen's optimizer, the opaque zeros made non-zero, and the
// command line run in this process.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { expect, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { hardenModule, type HardenOptions } from '../src/harden.js';
import { REFERENCE_FSW } from '../src/mission/fly.js';
import binaryen from '../src/passes/binaryen.js';
import { CHECK_IMPORT, CHECK_MODULE } from '../src/passes/checks.js';
import { definedFunctions, walkPostOrder } from '../src/passes/expressions.js';
import { SUPPORTED_FEATURES } from '../src/passes/features.js';
import { OPAQUE_ZERO_F32_GLOBAL, OPAQUE_ZERO_F64_GLOBAL, OPAQUE_ZERO_GLOBAL, OPAQUE_ZERO_I64_GLOBAL } from '../src/passes/opaque-zero.js';
import { assemble, inputArbitrary, observable, runProgram } from './harden-programs.js';

export const MODES = ['swift', 'eddi'] as const;

export const inputsArbitrary = fc.array(inputArbitrary, { minLength: 1, maxLength: 4 });

export const referenceBytes = (): Uint8Array => new Uint8Array(readFileSync(REFERENCE_FSW));

/** Original and hardened agree on every input: result bits or trap, memory, globals, host calls. */
export function agreeOn(text: string, options: HardenOptions, inputs: ReadonlyArray<Parameters<typeof runProgram>[1]>): void {
  const original = assemble(text);
  const { binary } = hardenModule(original, options);
  const plain = new WebAssembly.Module(original as Uint8Array<ArrayBuffer>);
  const hardened = new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>);
  for (const input of inputs) {
    const expected = runProgram(plain, input);
    const actual = runProgram(hardened, input, { doubled: options.mode === 'eddi' });
    expect(observable(actual)).toEqual(observable(expected));
    // EDDI: shadow memory is a copy of the program's, whatever happened (a trap included).
    if (options.mode === 'eddi') expect(actual.shadow).toBe(actual.memory);
  }
}

/** The check sites (the constants passed to lockstep.check_failed) a binary still calls. */
export function checkSites(binary: Uint8Array): Map<number, number> {
  const module = binaryen.readBinary(binary);
  try {
    module.setFeatures(SUPPORTED_FEATURES);
    let target = '';
    for (let i = 0; i < module.getNumFunctions(); i++) {
      const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
      if (info.module === CHECK_MODULE && info.base === CHECK_IMPORT) target = info.name;
    }
    const sites = new Map<number, number>();
    for (const fn of definedFunctions(module)) {
      const info = binaryen.getFunctionInfo(fn);
      walkPostOrder(info.body, info.name, (expr) => {
        if (binaryen.getExpressionId(expr) !== binaryen.CallId || binaryen.Call.getTarget(expr) !== target) return;
        const site = binaryen.Call.getOperandAt(expr, 0);
        const id = binaryen.getExpressionId(site) === binaryen.ConstId ? (binaryen.getExpressionInfo(site) as unknown as { value: number }).value : -1;
        sites.set(id, (sites.get(id) ?? 0) + 1);
      });
    }
    return sites;
  } finally {
    module.dispose();
  }
}

/**
 * Binaryen's -O3 (optimizeLevel 3, shrinkLevel 0), the way wasm-opt -O3 runs it; level 4 (-O4) flattens
 * first and eliminates common subexpressions across the flattened locals (local-cse), which is what
 * merges a computation with its shadow when nothing keeps them apart.
 */
export function optimizeO3(binary: Uint8Array, level = 3): Uint8Array {
  const module = binaryen.readBinary(binary);
  const [optimize, shrink] = [binaryen.getOptimizeLevel(), binaryen.getShrinkLevel()];
  try {
    module.setFeatures(SUPPORTED_FEATURES);
    binaryen.setOptimizeLevel(level);
    binaryen.setShrinkLevel(0);
    module.optimize();
    if (!module.validate()) throw new Error('-O3 produced an invalid module');
    return module.emitBinary();
  } finally {
    binaryen.setOptimizeLevel(optimize);
    binaryen.setShrinkLevel(shrink);
    module.dispose();
  }
}

/** Makes every shadow differ from its value: the opaque zeros are no longer zero. */
export function perturbZeros(exports: Record<string, unknown>): void {
  (exports[OPAQUE_ZERO_GLOBAL] as WebAssembly.Global).value = 1;
  (exports[OPAQUE_ZERO_I64_GLOBAL] as WebAssembly.Global).value = 1n;
  (exports[OPAQUE_ZERO_F32_GLOBAL] as WebAssembly.Global).value = 1;
  (exports[OPAQUE_ZERO_F64_GLOBAL] as WebAssembly.Global).value = 1;
}

/** Runs the command line in this process, capturing what it writes: exit code and output. */
export async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true)),
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (err.push(String(chunk)), true)),
  ];
  try {
    const code = await main(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

/**
 * Counted loops (src/passes/counted-loops.ts): an outer loop from a to n (signed; entered past its bound
 * when a ≥ n), an inner one from 0 to 3 (unsigned), stores in the body, and the exit count in the result,
 * so that a loop left early or late changes what `run(a, n)` returns.
 */
export const COUNTED_LOOPS = `(module
  (memory (export "memory") 1)
  (func (export "run") (param $a i32) (param $n i32) (result i32) (local $i i32) (local $j i32) (local $s i32)
    (local.set $i (local.get $a))
    (loop $outer
      (if (i32.lt_s (local.get $i) (local.get $n))
        (then
          (local.set $j (i32.const 0))
          (loop $inner
            (if (i32.lt_u (local.get $j) (i32.const 3))
              (then
                (local.set $s (i32.add (local.get $s) (i32.add (i32.mul (local.get $i) (local.get $j)) (i32.const 1))))
                (i32.store (i32.and (i32.shl (i32.add (i32.mul (local.get $i) (i32.const 3)) (local.get $j)) (i32.const 2)) (i32.const 0xffc)) (local.get $s))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $inner))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $outer))))
    (i32.add (local.get $s) (i32.mul (local.get $i) (i32.const 1000)))))`;
