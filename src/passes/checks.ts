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
// seen. The operands of one instruction are checked by one branch: their bit differences (xor) OR-ed
// into one integer, tested once; the NaN test runs only once the bits differ, on the rare path.
// (A conditional branch's decision is checked differently, in the successor it took: branch-direction.ts.)
import binaryen, { i64Const, isTuple, type ExpressionRef, type Module } from './binaryen.js';
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
 * memory.grow), branch decisions (if and br_if in the successor taken, branch-direction.ts; br_table,
 * select), global.set values, call arguments and a
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
function components(m: Module, pair: Compared): Part[] {
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

type Part = { type: number; a: () => ExpressionRef; b: () => ExpressionRef };

/**
 * Whether the bits of any part differ from its shadow's, as one test: the parts' integer differences
 * (xor, floats through their bits) OR-ed together, in 64 bits when any part is 64 bits wide, tested for
 * non-zero once. V8 compiles it to xors, ors and one test-and-jump, where a comparison per part needs a
 * compare, a set-flag and a widening each before the OR. A lone part is compared directly (a compare and
 * a jump either way, one instruction fewer in WebAssembly).
 */
function anyDifference(m: Module, parts: readonly Part[], functionName: string): ExpressionRef {
  if (parts.length === 1) return bitsDiffer(m, parts[0].type, parts[0].a, parts[0].b, functionName);
  // The differences in the operands' order: the clean-up sinks each operand's computation into its use,
  // and two computations that may trap must keep their order (the trap reported is the first one's).
  const wide = parts.some((part) => part.type === B.i64 || part.type === B.f64);
  const terms: Array<{ wide: boolean; difference: ExpressionRef }> = parts.map((part) => {
    if (part.type === B.i32) return { wide: false, difference: m.i32.xor(part.a(), part.b()) };
    if (part.type === B.f32) return { wide: false, difference: m.i32.xor(m.i32.reinterpret(part.a()), m.i32.reinterpret(part.b())) };
    if (part.type === B.i64) return { wide: true, difference: m.i64.xor(part.a(), part.b()) };
    if (part.type === B.f64) return { wide: true, difference: m.i64.xor(m.i64.reinterpret(part.a()), m.i64.reinterpret(part.b())) };
    return { wide: false, difference: bitsDiffer(m, part.type, part.a, part.b, functionName) };
  });
  // Runs of scalar differences are OR-ed as integers (in 64 bits when any operand is), each run tested
  // for non-zero once; a vector's test (any lane differs) is a condition of its own.
  const conditions: ExpressionRef[] = [];
  let run: ExpressionRef | null = null;
  const close = () => {
    if (run !== null) conditions.push(wide ? m.i64.ne(run, i64Const(m, 0n)) : run);
    run = null;
  };
  parts.forEach((part, i) => {
    if (part.type === B.v128) {
      close();
      conditions.push(terms[i].difference);
      return;
    }
    const difference = wide && !terms[i].wide ? m.i64.extend_u(terms[i].difference) : terms[i].difference;
    run = run === null ? difference : wide ? m.i64.or(run, difference) : m.i32.or(run, difference);
  });
  close();
  return conditions.reduce((acc, condition) => m.i32.or(acc, condition));
}

/** The check of `pairs` (at least one) as site `site`: fails when any value differs from its shadow. */
export function checkCode(m: Module, pairs: readonly Compared[], site: number, functionName: string): ExpressionRef {
  const parts = pairs.flatMap((pair) => components(m, pair));
  const any = (conditions: ExpressionRef[]) => conditions.reduce((acc, c) => m.i32.or(acc, c));
  const fast = anyDifference(m, parts, functionName);
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
