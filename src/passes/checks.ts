// The checks of the hardening passes (SWIFT, EDDI): where a value leaves the sphere of replication it is
// compared with its shadow, and a difference calls the import `lockstep.check_failed(site)` and traps,
// so that the core stops the cycle and reports a detection of its own (src/core/core.ts provides the
// import). The import is part of the contract between hardened flight software and the host: the ABI
// check (src/abi/contract.ts) accepts it, and nothing else from module "lockstep".
//
// A check compares bit patterns (so −0 and +0 differ), except that two NaNs are equal: V8 folds float
// operations on constants at compile time and may quiet a signalling NaN where the machine instruction
// would not (f64.floor does), or give 0/0 another sign than the machine's default NaN, so a main copy V8
// could fold and a shadow it could not (the opaque zero forbids it) may hold different NaNs without any
// fault. Where a NaN's bits can leave the float domain the duplication gives the shadow the main copy's
// NaN instead (duplicate.ts). The price: a fault that leaves a NaN a NaN (its sign, its payload) is not
// seen. The operands of one instruction are checked by one branch (their differences OR-ed); the NaN test
// runs only once the bits differ, on the rare path.
import binaryen, { isTuple, type ExpressionRef, type Module } from './binaryen.js';
import { PassRefusal } from './pass.js';

const B = binaryen;

/** The import a hardened module calls when a check fails: module "lockstep", name "check_failed", (i32) -> (). */
export const CHECK_MODULE = 'lockstep';
export const CHECK_IMPORT = 'check_failed';
/** The import's name inside the module. */
export const CHECK_FUNCTION = '__lockstep_check_failed';

export const CHECK_FAMILIES = ['stores', 'branches', 'globals', 'calls', 'returns', 'loads', 'edges'] as const;
export type CheckFamily = (typeof CHECK_FAMILIES)[number];
/**
 * Checked unless asked otherwise: stores (address and value, and the operands of bulk memory writes and
 * memory.grow), branch decisions (if, br_if, br_table, select), global.set values, call arguments and a
 * call_indirect's table index (host imports included), and return values. Load addresses (SWIFT's paper
 * checks them too) are available as `loads`, and control-flow checking (cfc.ts: the edge taken by every
 * conditional branch, against its shadow condition) as `edges`.
 */
export const DEFAULT_FAMILIES: readonly CheckFamily[] = ['stores', 'branches', 'globals', 'calls', 'returns'];

export interface CheckSite {
  /** What `lockstep.check_failed` receives when this check fails. */
  readonly id: number;
  readonly family: CheckFamily;
  readonly function: string;
  /** The checked instruction (Store, If, Break, Call...). */
  readonly instruction: string;
}

export function addCheckImport(module: Module): void {
  module.addFunctionImport(CHECK_FUNCTION, CHECK_MODULE, CHECK_IMPORT, B.i32, B.none);
}

/** Whether the module imports `lockstep.check_failed`: it was hardened already. */
export function importsCheck(module: Module): boolean {
  for (let i = 0; i < module.getNumFunctions(); i++) {
    const info = B.getFunctionInfo(module.getFunctionByIndex(i));
    if (info.module === CHECK_MODULE && info.base === CHECK_IMPORT) return true;
  }
  return false;
}

/** A pair of locals to compare: a value and its shadow. */
export interface Compared {
  readonly local: number;
  readonly shadow: number;
  readonly type: number;
}

/** Bits of a scalar or v128 value and its shadow differ. */
function bitsDiffer(m: Module, type: number, a: () => ExpressionRef, b: () => ExpressionRef, functionName: string): ExpressionRef {
  if (type === B.i32) return m.i32.ne(a(), b());
  if (type === B.i64) return m.i64.ne(a(), b());
  if (type === B.f32) return m.i32.ne(m.i32.reinterpret(a()), m.i32.reinterpret(b()));
  if (type === B.f64) return m.i64.ne(m.i64.reinterpret(a()), m.i64.reinterpret(b()));
  if (type === B.v128) return m.v128.any_true(m.v128.xor(a(), b()));
  throw new PassRefusal(`function ${functionName}: values of this type cannot be checked`);
}

/** The scalar components of a compared pair (a tuple's elements). */
function components(m: Module, pair: Compared): Array<{ type: number; a: () => ExpressionRef; b: () => ExpressionRef }> {
  if (!isTuple(pair.type)) return [{ type: pair.type, a: () => m.local.get(pair.local, pair.type), b: () => m.local.get(pair.shadow, pair.type) }];
  return (B.expandType(pair.type) as number[]).map((type, i) => ({
    type,
    a: () => m.tuple.extract(m.local.get(pair.local, pair.type), i),
    b: () => m.tuple.extract(m.local.get(pair.shadow, pair.type), i),
  }));
}

/** `lockstep.check_failed(site)`, then a trap. */
export function failCode(m: Module, site: number): ExpressionRef {
  return m.block(null, [m.call(CHECK_FUNCTION, [m.i32.const(site)], B.none), m.unreachable()], B.unreachable);
}

/** The check of `pairs` (at least one) as site `site`: fails when any value differs from its shadow. */
export function checkCode(m: Module, pairs: readonly Compared[], site: number, functionName: string): ExpressionRef {
  const parts = pairs.flatMap((pair) => components(m, pair));
  const any = (conditions: ExpressionRef[]) => conditions.reduce((acc, c) => m.i32.or(acc, c));
  const fast = any(parts.map((part) => bitsDiffer(m, part.type, part.a, part.b, functionName)));
  if (!parts.some((part) => part.type === B.f32 || part.type === B.f64)) return m.if(fast, failCode(m, site));
  // The bits differ: a fault, unless both are NaNs. Only this rare path pays for telling.
  const exact = any(
    parts.map((part) => {
      const differ = bitsDiffer(m, part.type, part.a, part.b, functionName);
      if (part.type !== B.f32 && part.type !== B.f64) return differ;
      const ops = part.type === B.f32 ? m.f32 : m.f64;
      return m.i32.and(differ, m.i32.or(ops.eq(part.a(), part.a()), ops.eq(part.b(), part.b())));
    }),
  );
  return m.if(fast, m.if(exact, failCode(m, site)));
}
