// What the two random-program generators of the property tests share: test/harden-programs.ts (small
// programs for the SWIFT/EDDI hardening properties) and test/random-module.ts (modules using every
// expression kind, for the module passes). Both draw a program from a list of choices that fast-check
// shrinks, both need labels in scope, loops that always end and runs of statements, both assemble with
// lockstep's features and both report a trap the same way. These live here once so that the two cannot
// drift apart in how a list of choices becomes structure; what each generator draws (its types, its
// constants, its operators) stays in its own file, since their aims differ.
//
// The order in which choices are consumed is what fixes a program for a given list (and so the programs
// a fixed fast-check seed sees): a change here changes every generated program.
import fc from 'fast-check';
import binaryen from '../src/passes/binaryen.js';
import { SUPPORTED_FEATURES } from '../src/passes/features.js';

/** The decisions of one program, taken in order; when the list runs out every decision takes its first option. */
export class Choices {
  private next = 0;
  constructor(private readonly values: readonly number[]) {}
  pick(options: number): number {
    if (this.next >= this.values.length) return 0;
    return this.values[this.next++] % options;
  }
}

/**
 * Lists of choices for a generator. Unbiased and always as long as allowed: a short list would end most
 * programs at their first decisions (the first option is always a leaf).
 */
export function choiceLists(maxLength: number): fc.Arbitrary<number[]> {
  return fc.noBias(fc.array(fc.nat({ max: 1 << 20 }), { maxLength, size: 'max' }));
}

export interface Label<Type extends string> {
  readonly name: string;
  readonly type: Type | 'none';
}

/**
 * The structure both generators build alike: labels a branch may target while they are in scope, runs of
 * statements, and loops bounded by a counter local of their own (declared by the function).
 */
export abstract class ProgramGenerator<Value extends string> {
  protected labels: Array<Label<Value>> = [];
  private labelCount = 0;
  protected counters: string[] = [];

  constructor(
    protected readonly c: Choices,
    private readonly sizes: { readonly mostStatements: number },
  ) {}

  abstract expr(type: Value, d: number): string;
  protected abstract stmt(d: number): string;

  protected one<R>(options: ReadonlyArray<() => R>): R {
    return options[this.c.pick(options.length)]();
  }

  protected label(prefix: string): string {
    return `$${prefix}${this.labelCount++}`;
  }

  protected withLabel<R>(label: Label<Value>, body: () => R): R {
    this.labels.push(label);
    try {
      return body();
    } finally {
      this.labels.pop();
    }
  }

  protected statements(d: number): string {
    const count = this.c.pick(this.sizes.mostStatements + 1);
    let out = '';
    for (let i = 0; i < count; i++) out += ` ${this.stmt(d - 1)}`;
    return out;
  }

  /** A loop that runs at most three times: only its own counter branches back to it. */
  protected loop(type: Value | 'none', d: number): string {
    const name = this.label('loop');
    const counter = `$c${this.counters.length}`;
    this.counters.push(counter);
    // Branches to a loop label are never generated (they could spin): the label is not pushed.
    const body = `${this.statements(d)} (br_if ${name} (i32.lt_u (local.tee ${counter} (i32.add (local.get ${counter}) (i32.const 1))) (i32.const 3)))`;
    if (type === 'none') return `(block (local.set ${counter} (i32.const 0)) (loop ${name}${body}))`;
    return `(block (result ${type}) (local.set ${counter} (i32.const 0)) (loop ${name} (result ${type})${body} ${this.expr(type, d - 1)}))`;
  }

  /** Starts a function: no label in scope, no loop counter yet. */
  protected beginFunction(): void {
    this.labels = [];
    this.counters = [];
  }

  /** The declarations of the loop counters of the function generated since `beginFunction`. */
  protected counterLocals(): string[] {
    return this.counters.map((counter) => `(local ${counter} i32)`);
  }
}

/** WebAssembly text to a binary, with every feature lockstep's passes accept (support.ts's `wat` validates as MVP). */
export function assemble(text: string): Uint8Array {
  const module = binaryen.parseText(text);
  try {
    module.setFeatures(SUPPORTED_FEATURES);
    if (!module.validate()) throw new Error(`generated module does not validate:\n${text}`);
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

/**
 * `ok <what run returns>`, or `trap <message>` when the run traps (a RangeError is the engine's stack
 * overflow). Any other error is not the program's doing and propagates.
 */
export function resultOf(run: () => unknown): string {
  try {
    return `ok ${run()}`;
  } catch (error) {
    if (error instanceof WebAssembly.RuntimeError || error instanceof RangeError) return `trap ${error.message}`;
    throw error;
  }
}
