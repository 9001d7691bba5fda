// Random small programs for the hardening properties (SWIFT, EDDI), and a runner that reports everything
// a run can show: the result's bits or the trap, the whole memory, the globals' bits, and every call to
// the host with its arguments' bits (which pins down the order of side effects). A program is drawn from
// a list of choices, as test/random-module.ts's are, with the machinery both share in
// test/program-generation.ts (fast-check shrinks the list, so a failing program shrinks too; when the
// choices run out every decision takes its first option, a leaf, so generation ends).
//
// What the programs hold: i32/i64/f32/f64 arithmetic (trapping division and conversions, NaN and −0
// constants, reinterpretations, min/max, floor, copysign), parameters and locals, mutable and immutable
// globals, loads and stores of several widths (addresses mostly in bounds, sometimes not), memory.size,
// memory.grow, memory.fill and memory.copy, if/else with and without values, blocks left by br_if and
// br_table, loops of at most three iterations, select, direct calls (to later functions only, so no
// recursion), call_indirect, calls to a host import, and early returns.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { Choices, choiceLists, ProgramGenerator, resultOf } from './program-generation.js';
import { randomModuleGlobals, randomModuleHost } from './random-module.js';

export { assemble } from './program-generation.js';

type T = 'i32' | 'i64' | 'f32' | 'f64';
const TYPES: readonly T[] = ['i32', 'i64', 'f32', 'f64'];

const CONSTS: Record<T, readonly string[]> = {
  i32: ['0', '1', '-1', '7', '0x7fffffff', '0x80000000', '255', '-100', '3', '65535', '16'],
  i64: ['0', '1', '-1', '0x7fffffffffffffff', '0x8000000000000000', '12345678901', '-3', '64'],
  f32: ['0', '-0', '1.5', 'nan', 'nan:0x200001', '-nan:0x7fffff', 'inf', '-3.25e-20', '0x1p-149', '100', '2147483520'],
  f64: ['0', '-0', '2.5', 'nan', 'nan:0x4000000000001', '-nan:0x8000000000001', '-inf', '1e300', '0x1p-1074', '-7.75', '9.2e18'],
};

class Generator extends ProgramGenerator<T> {
  private result: T = 'i32';
  private index = 0;

  constructor(
    c: Choices,
    private readonly results: readonly T[],
    private readonly canonical: boolean,
  ) {
    super(c, { mostStatements: 3 });
  }

  /** A float whose bits become observable: with `canonical`, any NaN becomes the canonical NaN. */
  leak(type: T, expr: string): string {
    return this.canonical ? canonicalized(type, expr) : expr;
  }

  private constant(type: T): string {
    const list = CONSTS[type];
    return `(${type}.const ${list[this.c.pick(list.length)]})`;
  }

  /** Mostly in bounds of the first page (the top bytes reach past it), now and then anywhere. */
  private address(d: number): string {
    return this.c.pick(12) === 0 ? this.expr('i32', d - 1) : `(i32.and ${this.expr('i32', d - 1)} (i32.const 0xfff8))`;
  }

  private leaf(type: T): string {
    const index = TYPES.indexOf(type);
    return this.one([
      () => this.constant(type),
      () => `(local.get $p${index})`,
      () => `(local.get $l${index})`,
      () => `(global.get $g${index})`,
      () => `(global.get $k${index})`,
    ]);
  }

  /** A call to a later function, with arguments of every type. */
  private call(d: number, want: T): string | null {
    const later = this.results.map((type, i) => ({ type, i })).filter((f) => f.i > this.index && f.type === want);
    if (later.length === 0) return null;
    const target = later[this.c.pick(later.length)];
    const args = TYPES.map((type) => this.expr(type, d - 1)).join(' ');
    if (want === 'i32' && this.index === 0 && this.c.pick(2) === 0) {
      // call_indirect (only from $f0: the table holds later functions returning i32; a bad index traps).
      return `(call_indirect (type $ti) ${args} (i32.and ${this.expr('i32', d - 1)} (i32.const 3)))`;
    }
    return `(call $f${target.i} ${args})`;
  }

  expr(type: T, d: number): string {
    if (d <= 0) return this.leaf(type);
    const e = (t: T) => this.expr(t, d - 1);
    const choice = this.c.pick(7);
    if (choice === 0) return this.leaf(type);
    if (choice === 1) {
      return this.one([
        () => `(select ${e(type)} ${e(type)} ${e('i32')})`,
        () => `(if (result ${type}) ${e('i32')} (then${this.statements(d)} ${e(type)}) (else ${e(type)}))`,
        () => this.valueBlock(type, d),
        () => this.call(d, type) ?? this.leaf(type),
        () => `(local.tee $l${TYPES.indexOf(type)} ${e(type)})`,
      ]);
    }
    switch (type) {
      case 'i32':
        return this.one([
          () => `(i32.add ${e('i32')} ${e('i32')})`,
          () => `(i32.sub ${e('i32')} ${e('i32')})`,
          () => `(i32.mul ${e('i32')} ${e('i32')})`,
          () => `(i32.div_s ${e('i32')} ${e('i32')})`,
          () => `(i32.rem_u ${e('i32')} ${e('i32')})`,
          () => `(i32.and ${e('i32')} ${e('i32')})`,
          () => `(i32.xor ${e('i32')} ${e('i32')})`,
          () => `(i32.shl ${e('i32')} ${e('i32')})`,
          () => `(i32.shr_s ${e('i32')} ${e('i32')})`,
          () => `(i32.rotl ${e('i32')} ${e('i32')})`,
          () => `(i32.eqz ${e('i32')})`,
          () => `(i32.clz ${e('i32')})`,
          () => `(i32.popcnt ${e('i32')})`,
          () => `(i32.lt_s ${e('i32')} ${e('i32')})`,
          () => `(i32.ge_u ${e('i32')} ${e('i32')})`,
          () => `(i64.eq ${e('i64')} ${e('i64')})`,
          () => `(f32.lt ${e('f32')} ${e('f32')})`,
          () => `(f64.ne ${e('f64')} ${e('f64')})`,
          () => `(f64.eq ${e('f64')} ${e('f64')})`,
          () => `(i32.wrap_i64 ${e('i64')})`,
          () => `(i32.trunc_f64_s ${e('f64')})`,
          () => `(i32.trunc_sat_f32_u ${e('f32')})`,
          () => `(i32.reinterpret_f32 ${this.leak('f32', e('f32'))})`,
          () => `(i32.extend8_s ${e('i32')})`,
          () => `(i32.load ${this.address(d)})`,
          () => `(i32.load8_s offset=3 ${this.address(d)})`,
          () => `(i32.load16_u ${this.address(d)})`,
          () => `(call $log ${e('i32')} ${this.leak('f64', e('f64'))})`,
          () => '(memory.size)',
          () => `(memory.grow (i32.and ${e('i32')} (i32.const 1)))`,
        ]);
      case 'i64':
        return this.one([
          () => `(i64.add ${e('i64')} ${e('i64')})`,
          () => `(i64.sub ${e('i64')} ${e('i64')})`,
          () => `(i64.mul ${e('i64')} ${e('i64')})`,
          () => `(i64.div_u ${e('i64')} ${e('i64')})`,
          () => `(i64.rem_s ${e('i64')} ${e('i64')})`,
          () => `(i64.shr_u ${e('i64')} ${e('i64')})`,
          () => `(i64.rotr ${e('i64')} ${e('i64')})`,
          () => `(i64.extend_i32_s ${e('i32')})`,
          () => `(i64.extend_i32_u ${e('i32')})`,
          () => `(i64.trunc_f64_u ${e('f64')})`,
          () => `(i64.reinterpret_f64 ${this.leak('f64', e('f64'))})`,
          () => `(i64.load ${this.address(d)})`,
          () => `(i64.load32_s offset=4 ${this.address(d)})`,
        ]);
      case 'f32':
        return this.one([
          () => `(f32.add ${e('f32')} ${e('f32')})`,
          () => `(f32.mul ${e('f32')} ${e('f32')})`,
          () => `(f32.div ${e('f32')} ${e('f32')})`,
          () => `(f32.min ${e('f32')} ${e('f32')})`,
          () => `(f32.copysign ${e('f32')} ${this.leak('f32', e('f32'))})`,
          () => `(f32.abs ${e('f32')})`,
          () => `(f32.neg ${e('f32')})`,
          () => `(f32.sqrt ${e('f32')})`,
          () => `(f32.floor ${e('f32')})`,
          () => `(f32.nearest ${e('f32')})`,
          () => `(f32.convert_i32_s ${e('i32')})`,
          () => `(f32.demote_f64 ${e('f64')})`,
          () => `(f32.reinterpret_i32 ${e('i32')})`,
          () => `(f32.load ${this.address(d)})`,
        ]);
      case 'f64':
        return this.one([
          () => `(f64.add ${e('f64')} ${e('f64')})`,
          () => `(f64.sub ${e('f64')} ${e('f64')})`,
          () => `(f64.mul ${e('f64')} ${e('f64')})`,
          () => `(f64.div ${e('f64')} ${e('f64')})`,
          () => `(f64.max ${e('f64')} ${e('f64')})`,
          () => `(f64.copysign ${e('f64')} ${this.leak('f64', e('f64'))})`,
          () => `(f64.neg ${e('f64')})`,
          () => `(f64.floor ${e('f64')})`,
          () => `(f64.trunc ${e('f64')})`,
          () => `(f64.sqrt ${e('f64')})`,
          () => `(f64.promote_f32 ${e('f32')})`,
          () => `(f64.convert_i64_u ${e('i64')})`,
          () => `(f64.reinterpret_i64 ${e('i64')})`,
          () => `(f64.load offset=8 ${this.address(d)})`,
        ]);
    }
  }

  /** A block that br_if can leave early with a value. */
  private valueBlock(type: T, d: number): string {
    const name = this.label('v');
    return this.withLabel({ name, type }, () => `(block ${name} (result ${type})${this.statements(d)} (drop (br_if ${name} ${this.expr(type, d - 1)} ${this.expr('i32', d - 1)})) ${this.expr(type, d - 1)})`);
  }

  protected stmt(d: number): string {
    if (d <= 0) return this.one([() => '(nop)', () => `(local.set $l0 ${this.leaf('i32')})`]);
    const e = (t: T) => this.expr(t, d - 1);
    const t = () => TYPES[this.c.pick(4)];
    return this.one([
      () => {
        const type = t();
        return `(local.set $l${TYPES.indexOf(type)} ${e(type)})`;
      },
      () => {
        const type = t();
        return `(global.set $g${TYPES.indexOf(type)} ${this.leak(type, e(type))})`;
      },
      () => `(i32.store ${this.address(d)} ${e('i32')})`,
      () => `(i32.store8 offset=1 ${this.address(d)} ${e('i32')})`,
      () => `(i64.store16 ${this.address(d)} ${e('i64')})`,
      () => `(f32.store offset=4 ${this.address(d)} ${this.leak('f32', e('f32'))})`,
      () => `(f64.store ${this.address(d)} ${this.leak('f64', e('f64'))})`,
      () => `(f64.store ${this.address(d)} ${this.leak('f64', e('f64'))})`,
      () => `(if ${e('i32')} (then${this.statements(d)}) (else${this.statements(d)}))`,
      () => this.loop('none', d),
      () => {
        const outer = this.label('b');
        const inner = this.label('b');
        return this.withLabel({ name: outer, type: 'none' }, () => {
          const first = this.withLabel({ name: inner, type: 'none' }, () => `(block ${inner}${this.statements(d)} (br_table ${inner} ${outer} ${inner} ${e('i32')}))`);
          return `(block ${outer} ${first}${this.statements(d)})`;
        });
      },
      () => {
        const targets = this.labels.filter((label) => label.type === 'none');
        if (targets.length === 0) return '(nop)';
        return `(br_if ${targets[this.c.pick(targets.length)].name} ${e('i32')})`;
      },
      () => `(drop (call $log ${e('i32')} ${this.leak('f64', e('f64'))}))`,
      () => `(memory.fill (i32.and ${e('i32')} (i32.const 0xfff0)) ${e('i32')} (i32.and ${e('i32')} (i32.const 31)))`,
      () => `(memory.copy (i32.and ${e('i32')} (i32.const 0xffc0)) (i32.and ${e('i32')} (i32.const 0xffc0)) (i32.and ${e('i32')} (i32.const 63)))`,
      () => `(if ${e('i32')} (then (return ${e(this.result)})))`,
      () => {
        const type = t();
        return `(drop ${e(type)})`;
      },
    ]);
  }

  func(index: number, d: number): string {
    this.index = index;
    this.result = this.results[index];
    this.beginFunction();
    const body = `${this.statements(d + 1)} ${this.expr(this.result, d)}`;
    const counters = this.counterLocals().join(' ');
    return `(func $f${index} (param $p0 i32) (param $p1 i64) (param $p2 f32) (param $p3 f64) (result ${this.result}) (local $l0 i32) (local $l1 i64) (local $l2 f32) (local $l3 f64) (local $t2 f32) (local $t3 f64) ${counters}${body})`;
  }
}

/** `expr` with any NaN replaced by the canonical NaN (through the function's local $t2 or $t3). */
function canonicalized(type: T, expr: string): string {
  if (type !== 'f32' && type !== 'f64') return expr;
  const temp = type === 'f32' ? '$t2' : '$t3';
  return `(select (${type}.const nan) (local.tee ${temp} ${expr}) (${type}.ne (local.get ${temp}) (local.get ${temp})))`;
}

const TO_BITS: Record<T, string> = {
  i32: 'i64.extend_i32_u',
  i64: '',
  f32: 'i64.extend_i32_u (i32.reinterpret_f32',
  f64: 'i64.reinterpret_f64',
};

/**
 * A module exporting `run(i32, i64, f32 bits as i64, f64 bits as i64) -> i64` (the bits of $f0's result),
 * `memory`, and getters of the mutable globals' bits (`g0`..`g3`).
 *
 * `canonicalNaNs`: every float whose bits become observable (stored, set in a global, reinterpreted,
 * lending its sign to copysign, passed to the host, returned by run) has any NaN replaced by the
 * canonical NaN. WebAssembly lets an engine pick the payload of a NaN result among its NaN operands, and
 * V8's optimizing compiler does so by register allocation (commuting operands) and folds some operations
 * on constants differently from the machine: the same module gives different NaN bits in V8's baseline
 * and optimizing tiers. Programs compared under the optimizing compiler are made insensitive to that.
 */
export function programText(choices: readonly number[], depth = 4, { canonicalNaNs = false } = {}): string {
  const c = new Choices(choices);
  const count = 1 + c.pick(3);
  const results = Array.from({ length: count }, () => TYPES[c.pick(4)]);
  const generator = new Generator(c, results, canonicalNaNs);
  const functions = results.map((_, i) => generator.func(i, Math.max(1, depth - i)));
  const table = results.map((type, i) => ({ type, i })).filter((f) => f.type === 'i32' && f.i > 0);
  const elements = table.length > 0 ? `(table ${table.length} funcref) (elem (i32.const 0) ${table.map((f) => `$f${f.i}`).join(' ')})` : '(table 0 funcref)';
  const convert = TO_BITS[results[0]];
  const call = generator.leak(results[0], '(call $f0 (local.get 0) (local.get 1) (f32.reinterpret_i32 (i32.wrap_i64 (local.get 2))) (f64.reinterpret_i64 (local.get 3)))');
  const wrapped = convert === '' ? call : results[0] === 'f32' ? `(${convert} ${call}))` : `(${convert} ${call})`;
  const locals = '(local $t2 f32) (local $t3 f64)';
  return `(module
  (type $ti (func (param i32 i64 f32 f64) (result i32)))
  (import "env" "log" (func $log (param i32 f64) (result i32)))
  (memory (export "memory") 1 3)
  (data (i32.const 0) "\\01\\00\\c0\\7f\\00\\00\\a0\\7f\\01\\00\\00\\00\\00\\00\\f4\\7f\\00\\00\\00\\00\\00\\00\\00\\80\\ff\\ff\\ff\\ff\\2a\\00\\00\\00")
  (data (i32.const 0xfff0) "lockstep:harden!")
  (global $g0 (mut i32) (i32.const 7))
  (global $g1 (mut i64) (i64.const -9))
  (global $g2 (mut f32) (f32.const -0))
  (global $g3 (mut f64) (f64.const nan:0x4000000000001))
  (global $k0 i32 (i32.const 11))
  (global $k1 i64 (i64.const 0x100000000))
  (global $k2 f32 (f32.const 0.25))
  (global $k3 f64 (f64.const -1.5))
  ${elements}
  ${functions.join('\n  ')}
  (func (export "run") (param i32 i64 i64 i64) (result i64) ${locals} ${wrapped})
  (func (export "g0") (result i64) (i64.extend_i32_u (global.get $g0)))
  (func (export "g1") (result i64) (global.get $g1))
  (func (export "g2") (result i64) ${locals} (i64.extend_i32_u (i32.reinterpret_f32 ${generator.leak('f32', '(global.get $g2)')})))
  (func (export "g3") (result i64) ${locals} (i64.reinterpret_f64 ${generator.leak('f64', '(global.get $g3)')})))`;
}

export interface ProgramInput {
  readonly a: number;
  readonly b: bigint;
  readonly x: bigint;
  readonly y: bigint;
}

const F32_BITS = [0n, 0x80000000n, 0x7fc00000n, 0x7fa00001n, 0xffffffffn, 0x3f800000n, 0x00000001n, 0x4f000000n];
const F64_BITS = [0n, 0x8000000000000000n, 0x7ff8000000000000n, 0x7ff4000000000001n, 0xfff0000000000000n, 0x3ff8000000000000n, 0x43e0000000000000n, 0x0000000000000001n];

export const inputArbitrary: fc.Arbitrary<ProgramInput> = fc.record({
  a: fc.oneof(fc.integer({ min: -4, max: 70000 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
  b: fc.oneof(fc.bigInt({ min: -5n, max: 5n }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
  x: fc.oneof(fc.constantFrom(...F32_BITS), fc.bigInt({ min: 0n, max: 2n ** 32n - 1n })),
  y: fc.oneof(fc.constantFrom(...F64_BITS), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
});

export const choicesArbitrary = choiceLists(500);

export interface Outcome {
  /** `ok <bits>`, or `trap <message>`, or `check <site>` when a hardened check failed. */
  readonly result: string;
  /** The memory the program sees (the upper half of an EDDI module's): its length and digest. */
  readonly memory: string;
  readonly globals: string;
  readonly calls: string;
}

export class CheckFailure extends Error {
  constructor(readonly site: number) {
    super(`check ${site} failed`);
  }
}

/** The import through which a hardened module reports a failed check: it ends the run. */
const checkHost = {
  check_failed: (site: number) => {
    throw new CheckFailure(site);
  },
};

/** As resultOf, and `check <site>` when a hardened check ended the run. */
function checkedResultOf(run: () => unknown): string {
  try {
    return resultOf(run);
  } catch (error) {
    if (error instanceof CheckFailure) return `check ${error.site}`;
    throw error;
  }
}

export interface RunOptions {
  /** EDDI: the memory is doubled; the program sees the upper half (and the lower half is returned as `shadow`). */
  readonly doubled?: boolean;
  /** Called with the exports before `run`, to arm test hooks. */
  readonly before?: (exports: Record<string, unknown>) => void;
  /** Called with the exports after `run` (whatever its end), before the globals are read. */
  readonly afterRun?: (exports: Record<string, unknown>) => void;
}

/** Runs `run(input)` on a fresh instance and reports everything observable. */
export function runProgram(
  compiled: WebAssembly.Module,
  input: ProgramInput,
  options: RunOptions = {},
): Outcome & { shadow: string | null; exports: Record<string, unknown> } {
  const calls: string[] = [];
  const bits = new Float64Array(1);
  const bitsView = new BigUint64Array(bits.buffer);
  const instance = new WebAssembly.Instance(compiled, {
    env: {
      log: (a: number, y: number) => {
        bits[0] = y;
        calls.push(`${a}:${bitsView[0].toString(16)}`);
        return (calls.length * 7 + a) | 0;
      },
    },
    lockstep: checkHost,
  });
  const exports = instance.exports as Record<string, unknown>;
  options.before?.(exports);
  const run = exports.run as (a: number, b: bigint, x: bigint, y: bigint) => bigint;
  const result = checkedResultOf(() => BigInt.asUintN(64, run(input.a, BigInt.asIntN(64, input.b), BigInt.asIntN(64, input.x), BigInt.asIntN(64, input.y))).toString(16));
  options.afterRun?.(exports);
  const whole = Buffer.from((exports.memory as WebAssembly.Memory).buffer);
  const seen = options.doubled ? whole.subarray(whole.length / 2) : whole;
  const globals = ['g0', 'g1', 'g2', 'g3'].map((name) => BigInt.asUintN(64, (exports[name] as () => bigint)()).toString(16)).join(' ');
  return {
    result,
    memory: digest(seen),
    shadow: options.doubled ? digest(whole.subarray(0, whole.length / 2)) : null,
    globals,
    calls: calls.join(' '),
    exports,
  };
}

function digest(bytes: Uint8Array): string {
  return `${bytes.length} bytes, sha256 ${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}`;
}

/** The observable part of an outcome, for equality. */
export function observable(outcome: Outcome): Outcome {
  return { result: outcome.result, memory: outcome.memory, globals: outcome.globals, calls: outcome.calls };
}

/**
 * Runs `run` of a module from test/random-module.ts (every expression kind: SIMD, tuples, bulk memory...)
 * and reports what it shows, as runProgram does.
 */
export function runEveryKindModule(compiled: WebAssembly.Module, options: RunOptions = {}): Outcome & { shadow: string | null } {
  const calls: number[] = [];
  const instance = new WebAssembly.Instance(compiled, { env: randomModuleHost(calls), lockstep: checkHost });
  const exports = instance.exports as Record<string, unknown>;
  const result = checkedResultOf(exports.run as () => number);
  const whole = Buffer.from((exports.memory as WebAssembly.Memory).buffer);
  const seen = options.doubled ? whole.subarray(whole.length / 2) : whole;
  return {
    result,
    memory: digest(seen),
    shadow: options.doubled ? digest(whole.subarray(0, whole.length / 2)) : null,
    globals: randomModuleGlobals(exports),
    calls: calls.join(','),
  };
}
