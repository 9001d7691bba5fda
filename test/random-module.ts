// Random small WebAssembly modules for properties of the module passes, and a runner that reports
// everything a run of one can show: its result or trap, its memory, its globals and the sequence of
// calls it made to the host (which pins down the order of side effects). A module is drawn from a
// list of choices, with the machinery shared with test/harden-programs.ts in test/program-generation.ts
// (fast-check shrinks the list, so a failing module shrinks too); when the choices run out every
// decision takes its first option, which is always a leaf, so generation ends.
//
// The generated code uses every expression kind of expressions.ts's table: blocks with typed labels,
// br / br_if with values, br_table, if with and without else, bounded loops, return with and without a
// value, direct, indirect and imported calls, a multi-value call and tuples, every numeric and v128
// type, loads and stores of several widths, SIMD extract, replace, shuffle, ternary, shift, load, and
// load/store lane, memory size, grow, init, copy, fill, data.drop, select, drop, nop and unreachable.
import { Choices, choiceLists, ProgramGenerator, resultOf } from './program-generation.js';

export { assemble as watWithFeatures } from './program-generation.js';

type ValueType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128';
type BlockType = ValueType | 'none';

const I32_CONSTS = ['0', '1', '-1', '7', '0x7fffffff', '0x80000000', '255', '-100', '3', '1024'];
const I64_CONSTS = ['0', '1', '-1', '0x7fffffffffffffff', '0x8000000000000000', '12345678901', '-3'];
const F32_CONSTS = ['0', '-0', '1.5', 'nan', 'inf', '-3.25e-20', '0x1p-149', '100'];
const F64_CONSTS = ['0', '-0', '2.5', 'nan:0x4000000000001', '-inf', '1e300', '0x1p-1074', '-7.75'];

class Generator extends ProgramGenerator<ValueType> {
  /** Whether calls to $side may be generated (not inside $side itself). */
  private sideCalls = true;
  private result: BlockType = 'i32';

  constructor(c: Choices) {
    super(c, { mostStatements: 4 });
  }

  private constant(list: readonly string[]): string {
    return list[this.c.pick(list.length)];
  }

  private address(d: number): string {
    return `(i32.and ${this.expr('i32', d - 1)} (i32.const 0xff8))`;
  }

  private small(d: number, mask: number): string {
    return `(i32.and ${this.expr('i32', d - 1)} (i32.const ${mask}))`;
  }

  /** An expression of type `type` (or unreachable, which fits anywhere). */
  expr(type: BlockType, d: number): string {
    if (type === 'none') return this.stmt(d);
    if (d <= 0) return this.leaf(type);
    switch (this.c.pick(6)) {
      case 0:
        return this.leaf(type);
      case 1:
        return this.one([
          () => `(select ${this.expr(type, d - 1)} ${this.expr(type, d - 1)} ${this.expr('i32', d - 1)})`,
          () => this.block(type, d),
          () => this.ifElse(type, d),
          () => this.loop(type, d),
        ]);
      case 2:
        // Now and then an unconditional transfer in value position (typed unreachable).
        if (this.c.pick(8) === 1) return this.transfer(d);
        return this.one(this.specific(type, d));
      default:
        return this.one(this.specific(type, d));
    }
  }

  private leaf(type: ValueType): string {
    switch (type) {
      case 'i32':
        return this.one([() => `(i32.const ${this.constant(I32_CONSTS)})`, () => '(local.get $i0)', () => '(local.get $i1)', () => '(global.get $g)']);
      case 'i64':
        return this.one([() => `(i64.const ${this.constant(I64_CONSTS)})`, () => '(local.get $j0)', () => '(global.get $g64)']);
      case 'f32':
        return this.one([() => `(f32.const ${this.constant(F32_CONSTS)})`, () => '(local.get $x0)']);
      case 'f64':
        return this.one([() => `(f64.const ${this.constant(F64_CONSTS)})`, () => '(local.get $y0)', () => '(global.get $gf)']);
      case 'v128':
        return this.one([() => `(v128.const i32x4 ${[0, 1, 2, 3].map(() => this.constant(I32_CONSTS)).join(' ')})`, () => '(local.get $v0)']);
    }
  }

  private specific(type: ValueType, d: number): Array<() => string> {
    const e = (t: ValueType) => this.expr(t, d - 1);
    switch (type) {
      case 'i32':
        return [
          () => `(i32.add ${e('i32')} ${e('i32')})`,
          () => `(i32.sub ${e('i32')} ${e('i32')})`,
          () => `(i32.mul ${e('i32')} ${e('i32')})`,
          () => `(i32.xor ${e('i32')} ${e('i32')})`,
          () => `(i32.shl ${e('i32')} ${e('i32')})`,
          () => `(i32.rotl ${e('i32')} ${e('i32')})`,
          () => `(i32.lt_s ${e('i32')} ${e('i32')})`,
          () => `(i32.div_u ${e('i32')} ${e('i32')})`,
          () => `(i64.lt_u ${e('i64')} ${e('i64')})`,
          () => `(f64.gt ${e('f64')} ${e('f64')})`,
          () => `(i32.eqz ${e('i32')})`,
          () => `(i32.popcnt ${e('i32')})`,
          () => `(i32.extend8_s ${e('i32')})`,
          () => `(i32.wrap_i64 ${e('i64')})`,
          () => `(i32.trunc_sat_f64_s ${e('f64')})`,
          () => `(i32.reinterpret_f32 ${e('f32')})`,
          () => `(v128.any_true ${e('v128')})`,
          () => `(i8x16.bitmask ${e('v128')})`,
          () => `(i32.load offset=4 ${this.address(d)})`,
          () => `(i32.load8_s ${this.address(d)})`,
          () => `(call $h0 ${e('i32')})`,
          () => `(call $ext ${e('i32')})`,
          () => `(call_indirect (type $ii) ${e('i32')} ${this.small(d, 1)})`,
          () => '(memory.size)',
          () => `(memory.grow ${this.small(d, 1)})`,
          () => `(local.tee $i0 ${e('i32')})`,
          () => `(i8x16.extract_lane_u 3 ${e('v128')})`,
          () => `(i32x4.extract_lane 2 ${e('v128')})`,
          () => `(tuple.extract 2 0 (call $hm ${e('i32')}))`,
          () => `(tuple.extract 2 0 (tuple.make 2 ${e('i32')} ${e('f64')}))`,
        ];
      case 'i64':
        return [
          () => `(i64.add ${e('i64')} ${e('i64')})`,
          () => `(i64.mul ${e('i64')} ${e('i64')})`,
          () => `(i64.rotr ${e('i64')} ${e('i64')})`,
          () => `(i64.extend_i32_s ${e('i32')})`,
          () => `(i64.reinterpret_f64 ${e('f64')})`,
          () => `(i64.load ${this.address(d)})`,
          () => `(i64.load16_u offset=2 ${this.address(d)})`,
          () => `(i64x2.extract_lane 1 ${e('v128')})`,
          () => `(local.tee $j0 ${e('i64')})`,
          () => `(tuple.extract 2 1 (call $hm ${e('i32')}))`,
        ];
      case 'f32':
        return [
          () => `(f32.add ${e('f32')} ${e('f32')})`,
          () => `(f32.min ${e('f32')} ${e('f32')})`,
          () => `(f32.sqrt ${e('f32')})`,
          () => `(f32.convert_i32_s ${e('i32')})`,
          () => `(f32.demote_f64 ${e('f64')})`,
          () => `(f32.load ${this.address(d)})`,
          () => `(f32x4.extract_lane 1 ${e('v128')})`,
        ];
      case 'f64':
        return [
          () => `(f64.add ${e('f64')} ${e('f64')})`,
          () => `(f64.mul ${e('f64')} ${e('f64')})`,
          () => `(f64.div ${e('f64')} ${e('f64')})`,
          () => `(f64.copysign ${e('f64')} ${e('f64')})`,
          () => `(f64.neg ${e('f64')})`,
          () => `(f64.promote_f32 ${e('f32')})`,
          () => `(f64.convert_i64_u ${e('i64')})`,
          () => `(f64.load offset=8 ${this.address(d)})`,
          () => `(f64x2.extract_lane 0 ${e('v128')})`,
          () => `(local.tee $y0 ${e('f64')})`,
        ];
      case 'v128':
        return [
          () => `(i32x4.splat ${e('i32')})`,
          () => `(i32x4.add ${e('v128')} ${e('v128')})`,
          () => `(v128.not ${e('v128')})`,
          () => `(i8x16.replace_lane 5 ${e('v128')} ${e('i32')})`,
          () => `(f64x2.replace_lane 1 ${e('v128')} ${e('f64')})`,
          () => `(i8x16.shuffle 0 17 2 19 4 21 6 23 8 25 10 27 12 29 14 31 ${e('v128')} ${e('v128')})`,
          () => `(v128.bitselect ${e('v128')} ${e('v128')} ${e('v128')})`,
          () => `(i32x4.shl ${e('v128')} ${e('i32')})`,
          () => `(v128.load ${this.address(d)})`,
          () => `(v128.load32_splat ${this.address(d)})`,
          () => `(v128.load64_zero ${this.address(d)})`,
          () => `(v128.load8_lane 7 ${this.address(d)} ${e('v128')})`,
        ];
    }
  }

  private resultClause(type: BlockType): string {
    return type === 'none' ? '' : ` (result ${type})`;
  }

  private block(type: BlockType, d: number): string {
    const name = this.label('b');
    return this.withLabel({ name, type }, () => `(block ${name}${this.resultClause(type)}${this.statements(d)} ${type === 'none' ? this.stmt(d - 1) : this.expr(type, d - 1)})`);
  }

  private ifElse(type: BlockType, d: number): string {
    const condition = this.expr('i32', d - 1);
    const arm = () => `${this.statements(d)} ${type === 'none' ? this.stmt(d - 1) : this.expr(type, d - 1)}`;
    const name = this.label('if');
    return this.withLabel({ name, type }, () => {
      const then = arm();
      if (type === 'none' && this.c.pick(2) === 0) return `(if ${name} ${condition} (then${then}))`;
      return `(if ${name}${this.resultClause(type)} ${condition} (then${then}) (else${arm()}))`;
    });
  }

  /** br / br_table / return / unreachable: typed unreachable. */
  private transfer(d: number): string {
    const targets = this.labels;
    const options: Array<() => string> = [() => '(unreachable)'];
    if (targets.length > 0) {
      options.push(() => {
        const target = targets[this.c.pick(targets.length)];
        return `(br ${target.name}${target.type === 'none' ? '' : ` ${this.expr(target.type, d - 1)}`})`;
      });
      options.push(() => {
        const first = targets[this.c.pick(targets.length)];
        const same = targets.filter((label) => label.type === first.type);
        const names = [0, 1, 2].map(() => same[this.c.pick(same.length)].name).join(' ');
        return `(br_table ${names}${first.type === 'none' ? '' : ` ${this.expr(first.type, d - 1)}`} ${this.small(d, 3)})`;
      });
    }
    options.push(() => `(return${this.result === 'none' ? '' : ` ${this.expr(this.result, d - 1)}`})`);
    return this.one(options);
  }

  protected stmt(d: number): string {
    if (d <= 0) return this.one([() => '(nop)', () => `(local.set $i1 ${this.leaf('i32')})`]);
    const e = (t: ValueType) => this.expr(t, d - 1);
    const valueTypes: ValueType[] = ['i32', 'i64', 'f32', 'f64', 'v128'];
    const options: Array<() => string> = [
      () => '(nop)',
      () => `(local.set $i1 ${e('i32')})`,
      () => `(local.set $j0 ${e('i64')})`,
      () => `(local.set $x0 ${e('f32')})`,
      () => `(local.set $y0 ${e('f64')})`,
      () => `(local.set $v0 ${e('v128')})`,
      () => `(global.set $g ${e('i32')})`,
      () => `(global.set $gf ${e('f64')})`,
      () => `(i32.store ${this.address(d)} ${e('i32')})`,
      () => `(i64.store32 offset=4 ${this.address(d)} ${e('i64')})`,
      () => `(f64.store ${this.address(d)} ${e('f64')})`,
      () => `(v128.store offset=16 ${this.address(d)} ${e('v128')})`,
      () => `(v128.store16_lane 1 ${this.address(d)} ${e('v128')})`,
      () => `(drop ${this.expr(valueTypes[this.c.pick(valueTypes.length)], d - 1)})`,
      () => `(memory.fill ${this.address(d)} ${e('i32')} ${this.small(d, 63)})`,
      () => `(memory.copy ${this.address(d)} ${this.address(d)} ${this.small(d, 63)})`,
      () => `(memory.init $d ${this.address(d)} ${this.small(d, 7)} ${this.small(d, 7)})`,
      () => '(data.drop $e)',
      () => this.block('none', d),
      () => this.ifElse('none', d),
      () => this.loop('none', d),
      () => `(if ${e('i32')} (then (return${this.result === 'none' ? '' : ` ${e(this.result as ValueType)}`})))`,
      () => this.conditionalBranch(d),
      () => this.transfer(d),
    ];
    if (this.sideCalls) options.push(() => `(call $side ${e('i32')})`);
    if (this.c.pick(3) === 0) return this.one([() => this.block('none', d), () => this.ifElse('none', d), () => this.loop('none', d), () => this.conditionalBranch(d)]);
    return this.one(options);
  }

  /** br_if to an enclosing label, with a value when the label has one. */
  private conditionalBranch(d: number): string {
    if (this.labels.length === 0) return '(nop)';
    const target = this.labels[this.c.pick(this.labels.length)];
    const condition = this.expr('i32', d - 1);
    if (target.type === 'none') return `(br_if ${target.name} ${condition})`;
    return `(drop (br_if ${target.name} ${this.expr(target.type, d - 1)} ${condition}))`;
  }

  func(name: string, signature: string, result: BlockType, d: number, sideCalls: boolean): string {
    this.result = result;
    this.sideCalls = sideCalls;
    this.beginFunction();
    const body = `${this.statements(d + 1)} ${result === 'none' ? this.stmt(d) : this.expr(result, d)}`;
    const locals = ['(local $i0 i32) (local $i1 i32) (local $j0 i64) (local $x0 f32) (local $y0 f64) (local $v0 v128)', ...this.counterLocals()].join(' ');
    return `(func ${name} ${signature} ${locals}${body})`;
  }
}

/** A module with an exported `run` (result i32) and `$side` (param i32), both generated. */
export function randomModuleText(choices: readonly number[], depth = 4): string {
  const generator = new Generator(new Choices(choices));
  const side = generator.func('$side', '(param $p i32)', 'none', depth - 1, false);
  const run = generator.func('$run (export "run")', '(result i32)', 'i32', depth, true);
  return `(module
  (type $ii (func (param i32) (result i32)))
  (import "env" "ext" (func $ext (param i32) (result i32)))
  (memory (export "memory") 1 3)
  (data $d "\\01\\02\\03\\04\\05\\06\\07\\08\\09\\0a\\0b\\0c\\0d\\0e\\0f\\10")
  (data $e "lockstep")
  (global $g (export "g") (mut i32) (i32.const 7))
  (global $g64 (export "g64") (mut i64) (i64.const -9))
  (global $gf (export "gf") (mut f64) (f64.const 0.5))
  (table 2 funcref)
  (elem (i32.const 0) $h0 $h1)
  (func $h0 (type $ii) (i32.add (local.get 0) (i32.const 5)))
  (func $h1 (type $ii) (i32.mul (local.get 0) (call $ext (local.get 0))))
  (func $hm (param i32) (result i32 i64) (i32.xor (local.get 0) (i32.const 3)) (i64.extend_i32_u (local.get 0)))
  ${side}
  ${run})`;
}

export const choicesArbitrary = choiceLists(600);

export interface RunOutcome {
  readonly result: string;
  readonly memory: string;
  readonly globals: string;
  readonly calls: string;
}

/**
 * Runs `run` of a fresh instance of `bytes` (after `before`, given the exports) and reports everything
 * observable about the run.
 */
export function runModule(bytes: Uint8Array, before?: (exports: Record<string, unknown>) => void): RunOutcome & { exports: Record<string, unknown> } {
  const calls: number[] = [];
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), { env: randomModuleHost(calls) });
  const exports = instance.exports as Record<string, unknown>;
  before?.(exports);
  const result = resultOf(exports.run as () => number);
  const memory = Buffer.from((exports.memory as WebAssembly.Memory).buffer);
  return {
    exports,
    result,
    memory: `${memory.length}:${memory.toString('base64')}`,
    globals: randomModuleGlobals(exports),
    calls: calls.join(','),
  };
}

/** The host's side of a random module (its import `env.ext`), recording every argument it is called with in `calls`. */
export function randomModuleHost(calls: number[]): { ext: (x: number) => number } {
  return {
    ext: (x: number) => {
      calls.push(x);
      return (Math.imul(x, 3) + 1) | 0;
    },
  };
}

/** The exported globals of a random module instance, the f64 by its bits (so a NaN's payload counts). */
export function randomModuleGlobals(exports: Record<string, unknown>): string {
  const f64 = new Float64Array([(exports.gf as WebAssembly.Global).value as number]);
  return `${(exports.g as WebAssembly.Global).value} ${(exports.g64 as WebAssembly.Global).value} ${Buffer.from(f64.buffer).toString('hex')}`;
}

export function sameOutcome(a: RunOutcome, b: RunOutcome): boolean {
  return a.result === b.result && a.memory === b.memory && a.globals === b.globals && a.calls === b.calls;
}
