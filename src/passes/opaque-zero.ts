// The opaque zeros: why a shadow survives the optimizers. A shadow computed from the same operands as its
// value is the same expression, which Binaryen's optimizer and V8's TurboFan merge (CSE, GVN), after
// which the check `x != x'` folds to false and disappears. So every copy into a shadow goes through a
// mutable, exported global that is always zero (`__lockstep_opaque_zero`, and its i64, f32 and f64
// siblings): x' = x xor zero for integers, x − 0.0 for floats. No optimizer can prove an exported mutable
// global constant, so x and x' are different values to it, and so is everything computed from them. The
// tests run Binaryen's -O3 and -O4 on hardened flight software and find every check site still there
// (without the opaque zero, -O4 merges shadows and deletes many of them), and check under TurboFan that a
// shadow made to differ is still caught.
import binaryen, { i64Const, type ExpressionRef, type Module } from './binaryen.js';
import { PassRefusal } from './pass.js';

const B = binaryen;

export const OPAQUE_ZERO_GLOBAL = '__lockstep_opaque_zero';
export const OPAQUE_ZERO_I64_GLOBAL = '__lockstep_opaque_zero_i64';
export const OPAQUE_ZERO_F32_GLOBAL = '__lockstep_opaque_zero_f32';
export const OPAQUE_ZERO_F64_GLOBAL = '__lockstep_opaque_zero_f64';
export const OPAQUE_ZERO_GLOBALS = [OPAQUE_ZERO_GLOBAL, OPAQUE_ZERO_I64_GLOBAL, OPAQUE_ZERO_F32_GLOBAL, OPAQUE_ZERO_F64_GLOBAL] as const;

/** Adds the four zeros, mutable and exported (what makes them opaque). */
export function addOpaqueZeros(module: Module): void {
  for (const [name, init] of [
    [OPAQUE_ZERO_GLOBAL, module.i32.const(0)],
    [OPAQUE_ZERO_I64_GLOBAL, i64Const(module, 0n)],
    [OPAQUE_ZERO_F32_GLOBAL, module.f32.const(0)],
    [OPAQUE_ZERO_F64_GLOBAL, module.f64.const(0)],
  ] as const) {
    module.addGlobal(name, B.getExpressionType(init), true, init);
    module.addGlobalExport(name, name);
  }
}

/** The opaque zero global of a type (integers: i32 and i64, vectors the i32 one; floats: f32 and f64 zeros). */
export function zeroGlobal(type: number): string {
  if (type === B.i64) return OPAQUE_ZERO_I64_GLOBAL;
  if (type === B.f32) return OPAQUE_ZERO_F32_GLOBAL;
  if (type === B.f64) return OPAQUE_ZERO_F64_GLOBAL;
  return OPAQUE_ZERO_GLOBAL;
}

/** Reads the opaque zero of a type: the global, or a local a function loaded it into on entry. */
export type ZeroReader = (type: number) => ExpressionRef;

/**
 * `expr` through the opaque zero: integers xor it (bit for bit); floats subtract a float zero, which
 * leaves every value, −0 included, bit for bit, and only quiets a signalling NaN — a NaN still, which the
 * checks accept (checks.ts) — at one float instruction instead of three through the integers.
 */
export function opaqueScalar(module: Module, type: number, expr: ExpressionRef, zero: ZeroReader): ExpressionRef {
  const m = module;
  if (type === B.i32) return m.i32.xor(expr, zero(B.i32));
  if (type === B.i64) return m.i64.xor(expr, zero(B.i64));
  if (type === B.f32) return m.f32.sub(expr, zero(B.f32));
  if (type === B.f64) return m.f64.sub(expr, zero(B.f64));
  if (type === B.v128) return m.v128.xor(expr, m.i32x4.splat(zero(B.i32)));
  throw new PassRefusal(`values of type ${B.expandType(type).join(',')} cannot be duplicated`);
}
