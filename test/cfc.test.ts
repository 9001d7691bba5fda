// Control-flow checking (src/passes/cfc.ts; the named hardenings swift-cfc and eddi-cfc): a *-cfc build of
// any program computes what the original computes, with checks on entry or at exits; every wrong edge
// injected into it (an inverted if or br_if decision, a flipped br_table index bit, through the fault-hooks
// pass the campaigns strike with) is caught or changes nothing, and so is every inverted if and br_if
// decision of SWIFT alone (its branch checks test decisions, branch-direction.ts); the
// checks survive Binaryen -O3 and -O4; the table rows, the registered passes and `harden --mode`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_FAMILIES, EDGE_PLACEMENTS, hardenModule, type HardenOptions } from '../src/harden.js';
import { HARDENINGS } from '../src/hardenings.js';
import { BRANCH_COUNT_GLOBAL, BRANCH_COUNTDOWN_GLOBAL, FAULT_FIRED_GLOBAL, FAULT_MASK_GLOBAL, type FaultHooksReport } from '../src/passes/fault-hooks.js';
import { transformBinary } from '../src/passes/index.js';
import { EXIT } from '../src/cli/errors.js';
import binaryen from '../src/passes/binaryen.js';
import { wat } from './support.js';
import { assemble, choicesArbitrary, inputArbitrary, observable, programText, runProgram, type ProgramInput } from './harden-programs.js';
import { agreeOn, checkSites, cli, COUNTED_LOOPS, inputsArbitrary, optimizeO3, referenceBytes } from './harden-support.js';
import { choicesArbitrary as everyKindChoices, randomModuleGlobals, randomModuleHost, randomModuleText, watWithFeatures } from './random-module.js';

const CFC = ['swift-cfc', 'eddi-cfc'] as const;
const options = (name: (typeof CFC)[number] | 'swift', edgePlacement?: (typeof EDGE_PLACEMENTS)[number]): HardenOptions => ({ ...HARDENINGS[name], edgePlacement });

describe('semantics: a *-cfc build computes what the original computes', () => {
  for (const name of CFC) {
    for (const placement of EDGE_PLACEMENTS) {
      it(`${name}, checks at ${placement}: same result bits or trap, memory, globals and host calls, on generated programs and inputs`, () => {
        fc.assert(
          fc.property(choicesArbitrary, inputsArbitrary, fc.integer({ min: 2, max: 6 }), (choices, inputs, depth) => agreeOn(programText(choices, depth), options(name, placement), inputs)),
          { numRuns: 40 },
        );
      });
    }
    it(`${name}: the same on random modules using every expression kind (br_table included)`, () => {
      fc.assert(
        fc.property(everyKindChoices, (choices) => {
          const original = watWithFeatures(randomModuleText(choices));
          const hardened = hardenModule(original, options(name)).binary;
          expect(runEveryKind(hardened, name === 'eddi-cfc')).toEqual(runEveryKind(original, false));
        }),
        { numRuns: 40 },
      );
    });
  }
});

/**
 * A build with the campaigns' fault hooks (fault-hooks.ts), and the kind of each branch site: an edge
 * (If, Break, Switch), or else 'Select' — an inverted select is a data fault, caught by duplication
 * except between two NaNs (checks.ts: by design). The edges of EDDI's memory.grow helper count too: a
 * *-cfc build checks them (eddi.ts), and -O3 may inline the helper into the program anyway.
 */
function hooked(binary: Uint8Array): { compiled: WebAssembly.Module; kinds: string[] } {
  const { binary: withHooks, reports } = transformBinary(binary, ['fault-hooks'], 'generated');
  const report = reports.get('fault-hooks') as FaultHooksReport;
  const kinds = report.sites.map((site) => site.instruction);
  return { compiled: new WebAssembly.Module(withHooks as Uint8Array<ArrayBuffer>), kinds };
}

/** Whether an inverted decision of this kind is a wrong edge of the program. */
const isEdge = (kind: string | undefined) => kind === 'If' || kind === 'Break' || kind === 'Switch';

const global = (exports: Record<string, unknown>, name: string) => exports[name] as WebAssembly.Global;

/** Most branch decisions one run inverts, one run each (bounds the test's time). */
const MAX_DECISIONS = 60;

interface Tally {
  caught: number;
  harmless: number;
  silent: number;
}

/**
 * Inverts each branch decision of a run of a generated program in turn: the outcome is a check, a trap,
 * or the fault-free outcome. Returns the tally; `strict` asserts that nothing is silent.
 */
function injectWrongEdges(binary: Uint8Array, input: ProgramInput, doubled: boolean, tally: Tally, strict: boolean, brTableBit?: number, counts: (kind: string | undefined) => boolean = isEdge): void {
  const { compiled, kinds } = hooked(binary);
  let decisions = 0;
  const golden = observable(runProgram(compiled, input, { doubled, afterRun: (exports) => (decisions = global(exports, BRANCH_COUNT_GLOBAL).value as number) }));
  for (let n = 0; n < Math.min(decisions, MAX_DECISIONS); n++) {
    let fired = 0;
    const outcome = observable(
      runProgram(compiled, input, {
        doubled,
        before: (exports) => {
          global(exports, BRANCH_COUNTDOWN_GLOBAL).value = n + 1;
          if (brTableBit !== undefined) global(exports, FAULT_MASK_GLOBAL).value = BigInt(brTableBit);
        },
        afterRun: (exports) => (fired = global(exports, FAULT_FIRED_GLOBAL).value as number),
      }),
    );
    expect(fired, `decision ${n} was inverted`).toBeGreaterThan(0);
    if (!counts(kinds[fired - 1])) continue;
    if (/^(check|trap)/.test(outcome.result)) tally.caught++;
    else if (JSON.stringify(outcome) === JSON.stringify(golden)) tally.harmless++;
    else {
      tally.silent++;
      if (strict) expect(outcome, `inverting decision ${n} (a ${kinds[fired - 1]}) changed the outcome unseen`).toEqual(golden);
    }
  }
}

describe('wrong edges: every inverted branch decision is caught or harmless', () => {
  const programs = fc.tuple(choicesArbitrary, inputArbitrary).map(([choices, input]) => ({ text: programText(choices, 4, { canonicalNaNs: true }), input }));

  for (const name of CFC) {
    for (const placement of EDGE_PLACEMENTS) {
      it(`${name}, checks at ${placement}: on generated programs, each decision of a run inverted in turn`, () => {
        const tally: Tally = { caught: 0, harmless: 0, silent: 0 };
        fc.assert(
          fc.property(programs, ({ text, input }) => injectWrongEdges(hardenModule(assemble(text), options(name, placement)).binary, input, name === 'eddi-cfc', tally, true)),
          { numRuns: 20 },
        );
        expect(tally.caught).toBeGreaterThan(30);
      });
    }
  }

  // SWIFT alone checks an if's or a br_if's decision in the successor taken (branch-direction.ts), which
  // catches an inverted decision as the edge signatures do (a br_table's index is compared before the
  // jump, which a flipped index passes: the edges family's to catch).
  it('SWIFT alone catches every inverted if and br_if decision, or it changes nothing', () => {
    const tally: Tally = { caught: 0, harmless: 0, silent: 0 };
    const ifOrBrIf = (kind: string | undefined) => kind === 'If' || kind === 'Break';
    fc.assert(
      fc.property(programs, ({ text, input }) => injectWrongEdges(hardenModule(assemble(text), options('swift')).binary, input, false, tally, true, undefined, ifOrBrIf)),
      { numRuns: 20 },
    );
    expect(tally.caught).toBeGreaterThan(30);
  });

  for (const name of CFC) {
    it(`${name}: on random modules using every expression kind, br_table indices flipped at any bit`, () => {
      let caught = 0;
      fc.assert(
        fc.property(everyKindChoices, fc.nat({ max: 31 }), (choices, bit) => {
          const original = watWithFeatures(randomModuleText(choices));
          const doubled = name === 'eddi-cfc';
          const { compiled, kinds } = hooked(hardenModule(original, options(name)).binary);
          let decisions = 0;
          const golden = runEveryKind(compiled, doubled, undefined, (exports) => (decisions = global(exports, BRANCH_COUNT_GLOBAL).value as number));
          for (let n = 0; n < Math.min(decisions, MAX_DECISIONS); n++) {
            let fired = 0;
            const outcome = runEveryKind(
              compiled,
              doubled,
              (exports) => {
                global(exports, BRANCH_COUNTDOWN_GLOBAL).value = n + 1;
                global(exports, FAULT_MASK_GLOBAL).value = 1n << BigInt(bit);
              },
              (exports) => (fired = global(exports, FAULT_FIRED_GLOBAL).value as number),
            );
            if (!isEdge(kinds[fired - 1])) continue;
            if (/^(check|trap)/.test(outcome.result)) caught++;
            else expect(outcome, `inverting decision ${n} (a ${kinds[fired - 1]})`).toEqual(golden);
          }
        }),
        { numRuns: 20 },
      );
      expect(caught).toBeGreaterThan(50);
    });
  }
});

describe('edges alone (selective hardening\'s first level), and how an edge is checked', () => {
  const edgesOnly: HardenOptions = { mode: 'swift', families: ['edges'] };
  const programs = fc.tuple(choicesArbitrary, inputArbitrary).map(([choices, input]) => ({ text: programText(choices, 4, { canonicalNaNs: true }), input }));

  it('an edges-only build computes what the original computes, on generated programs and inputs', () => {
    fc.assert(
      fc.property(choicesArbitrary, inputsArbitrary, fc.integer({ min: 2, max: 6 }), (choices, inputs, depth) => agreeOn(programText(choices, depth), edgesOnly, inputs)),
      { numRuns: 40 },
    );
  });

  it('an edges-only build catches every inverted decision or it changes nothing, before and after -O3', () => {
    const tally: Tally = { caught: 0, harmless: 0, silent: 0 };
    fc.assert(
      fc.property(programs, ({ text, input }) => {
        const binary = hardenModule(assemble(text), edgesOnly).binary;
        injectWrongEdges(binary, input, false, tally, true);
        injectWrongEdges(optimizeO3(binary), input, false, tally, true);
      }),
      { numRuns: 20 },
    );
    expect(tally.caught).toBeGreaterThan(30);
  });

  // A counted loop (a br_if out of it, an if in it) and a br_table.
  const LOOP_AND_TABLE = `(module
    (memory 1)
    (func $run (export "run") (param $n i32) (result i32) (local $i i32) (local $s i32)
      (block $done
        (loop $again
          (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
          (if (i32.and (local.get $i) (i32.const 1)) (then (local.set $s (i32.add (local.get $s) (local.get $i)))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $again)))
      (local.get $s))
    (func $pick (export "pick") (param $k i32) (result i32)
      (block $c (block $b (block $a (br_table $a $b $c (local.get $k))) (return (i32.const 10))) (return (i32.const 20)))
      (i32.const 30)))`;
  const textOf = (binary: Uint8Array) => {
    const module = binaryen.readBinary(binary);
    try {
      return module.emitText();
    } finally {
      module.dispose();
    }
  };
  const exportsOf = (binary: Uint8Array) =>
    new WebAssembly.Instance(new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>), { lockstep: { check_failed: () => {} } }).exports as Record<string, (x: number) => number>;

  it('on entry an if and a br_if are checked by their direction, with no signature; a br_table, and checks at exits, by signatures', () => {
    const original = wat(LOOP_AND_TABLE);
    const direction = hardenModule(original, { ...edgesOnly, functions: { include: ['run'] } });
    expect(direction.report.checks.byFamily.edges).toBe(2);
    expect(textOf(direction.binary)).not.toMatch(/select/);
    expect(textOf(hardenModule(original, { ...edgesOnly, functions: { include: ['run'] }, edgePlacement: 'exit' }).binary)).toMatch(/select/);
    expect(textOf(hardenModule(original, { ...edgesOnly, functions: { include: ['pick'] } }).binary)).toMatch(/select/);
    const plain = exportsOf(original);
    const hardened = exportsOf(hardenModule(original, edgesOnly).binary);
    for (const n of [0, 1, 5, 9]) expect(hardened.run(n)).toBe(plain.run(n));
    for (const k of [0, 1, 2, 3, -1]) expect(hardened.pick(k)).toBe(plain.pick(k));
  });

  // Counted loops (counted-loops.ts), in a loop nest entered before, at and past its bounds (harden-support.ts).
  const COUNTED = COUNTED_LOOPS;
  const runCounted = (compiled: WebAssembly.Module, a: number, n: number, before?: (exports: Record<string, unknown>) => void, after?: (exports: Record<string, unknown>) => void) => {
    const instance = new WebAssembly.Instance(compiled, {
      lockstep: {
        check_failed: () => {
          throw new Error('check');
        },
      },
    });
    const exports = instance.exports as Record<string, unknown>;
    before?.(exports);
    let result: string;
    try {
      result = `ok ${(exports.run as (a: number, n: number) => number)(a, n)}`;
    } catch (error) {
      result = (error as Error).message === 'check' ? 'check' : `trap ${(error as Error).message}`;
    }
    after?.(exports);
    return { result, memory: Buffer.from((exports.memory as WebAssembly.Memory).buffer).subarray(0, 4096).toString('base64') };
  };
  const PAIRS = [[0, 4], [2, 5], [-3, 1], [3, 3], [6, 2], [-1, -2], [0, 0], [1, 7]] as const;

  it('edges alone check a counted loop by its count at the exit: same results on every entry, before and after -O3', () => {
    const original = wat(COUNTED);
    const { binary } = hardenModule(original, edgesOnly);
    // The exit's expected count, max(e, n), signed for the outer loop and unsigned for the inner one.
    expect(textOf(binary)).toMatch(/i32\.ge_s/);
    expect(textOf(binary)).toMatch(/i32\.ge_u/);
    const plain = new WebAssembly.Module(original as Uint8Array<ArrayBuffer>);
    for (const build of [binary, optimizeO3(binary)]) {
      const compiled = new WebAssembly.Module(build as Uint8Array<ArrayBuffer>);
      for (const [a, n] of PAIRS) expect(runCounted(compiled, a, n), `run(${a}, ${n})`).toEqual(runCounted(plain, a, n));
    }
  });

  it('edges alone catch every inverted decision of a counted loop (left early or late), before and after -O3', () => {
    const { binary } = hardenModule(wat(COUNTED), edgesOnly);
    let caught = 0;
    for (const build of [binary, optimizeO3(binary)]) {
      const { compiled, kinds } = hooked(build);
      for (const [a, n] of PAIRS) {
        let decisions = 0;
        const golden = runCounted(compiled, a, n, undefined, (exports) => (decisions = global(exports, BRANCH_COUNT_GLOBAL).value as number));
        for (let d = 0; d < Math.min(decisions, MAX_DECISIONS); d++) {
          let fired = 0;
          const outcome = runCounted(
            compiled,
            a,
            n,
            (exports) => (global(exports, BRANCH_COUNTDOWN_GLOBAL).value = d + 1),
            (exports) => (fired = global(exports, FAULT_FIRED_GLOBAL).value as number),
          );
          expect(fired).toBeGreaterThan(0);
          if (!isEdge(kinds[fired - 1])) continue;
          if (/^(check|trap)/.test(outcome.result)) caught++;
          else expect(outcome, `run(${a}, ${n}), decision ${d} (a ${kinds[fired - 1]}) inverted`).toEqual(golden);
        }
      }
    }
    expect(caught).toBeGreaterThan(50);
  });

  it('every check site of an edges-only build of the reference (its counted loops checked at their exits) is still called after -O3 and -O4', () => {
    const { binary, report } = hardenModule(referenceBytes(), edgesOnly);
    expect(report.checks.byFamily.edges).toBeGreaterThan(30);
    const before = [...checkSites(binary).keys()].sort((a, b) => a - b);
    expect(before).toEqual(report.sites.map((site) => site.id));
    for (const level of [3, 4]) expect([...checkSites(optimizeO3(binary, level)).keys()].sort((a, b) => a - b), `-O${level}`).toEqual(before);
  });

  it('a loop that is not counted keeps the direction check: a step other than one, a write of i in the body', () => {
    const variants = [
      COUNTED.replace('(local.set $j (i32.add (local.get $j) (i32.const 1)))', '(local.set $j (i32.add (local.get $j) (i32.const 2)))'),
      COUNTED.replace('(local.set $s (i32.add (local.get $s)', '(local.set $j (i32.and (local.get $j) (i32.const 3))) (local.set $s (i32.add (local.get $s)'),
    ];
    for (const text of variants) {
      const original = wat(text);
      const { binary } = hardenModule(original, edgesOnly);
      expect(textOf(binary)).not.toMatch(/i32\.ge_u/);
      const plain = new WebAssembly.Module(original as Uint8Array<ArrayBuffer>);
      const compiled = new WebAssembly.Module(binary as Uint8Array<ArrayBuffer>);
      for (const [a, n] of PAIRS) expect(runCounted(compiled, a, n)).toEqual(runCounted(plain, a, n));
    }
  });

  it('a function given the branches family in a module with edges checks its decisions (selective plans)', () => {
    const { report } = hardenModule(wat(LOOP_AND_TABLE), { mode: 'swift', families: ['branches', 'edges'], functionFamilies: { run: ['branches'] } });
    expect(report.checks.byFamily.branches).toBe(2);
    expect(report.checks.byFamily.edges).toBe(0);
  });
});

describe('the edge checks survive the optimizers', () => {
  for (const name of CFC) {
    it(`${name}: every check site of the hardened reference flight software, edges included, is still called after Binaryen -O3 and -O4`, () => {
      const { binary, report } = hardenModule(referenceBytes(), options(name));
      // One site per conditional branch (an if or a br_if checked by its direction, both successors sharing it).
      expect(report.checks.byFamily.edges).toBeGreaterThan(30);
      const before = [...checkSites(binary).keys()].sort((a, b) => a - b);
      expect(before).toEqual(report.sites.map((site) => site.id));
      for (const level of [3, 4]) expect([...checkSites(optimizeO3(binary, level)).keys()].sort((a, b) => a - b), `-O${level}`).toEqual(before);
    });

    it(`${name}: after -O3, every inverted decision of generated programs is still caught or harmless`, () => {
      const tally: Tally = { caught: 0, harmless: 0, silent: 0 };
      fc.assert(
        fc.property(choicesArbitrary, inputArbitrary, (choices, input) =>
          injectWrongEdges(optimizeO3(hardenModule(assemble(programText(choices, 4, { canonicalNaNs: true })), options(name)).binary), input, name === 'eddi-cfc', tally, true),
        ),
        { numRuns: 40 },
      );
      expect(tally.caught).toBeGreaterThan(20);
    });
  }
});

describe('regressions: the counterexamples of the -O3 properties, before and after -O3', () => {
  const input: ProgramInput = { a: 0, b: 0n, x: 0n, y: 0n };
  // A br_table (index 0 of $b1 $b0 $b1; -O3 turns it into an if): the pass once left br_tables
  // unchecked, so an index flipped from 0 to 1 (bit 0) took the other target unseen.
  // A memory.grow: EDDI's helper, inlined by -O3; its decisions were once unchecked.
  const cases = [
    { name: 'swift-cfc', choices: [0, 0, 15473, 656890, 0, 0, 455321, 5589, 637229] },
    { name: 'eddi-cfc', choices: [0, 0, 0, 147149, 243269] },
  ] as const;
  for (const { name, choices } of cases) {
      it(`${name}: every decision inverted (br_table indices at bits 0 and 1) is caught or harmless`, () => {
      const hardened = hardenModule(assemble(programText(choices, 4, { canonicalNaNs: true })), options(name)).binary;
      const tally: Tally = { caught: 0, harmless: 0, silent: 0 };
      for (const binary of [hardened, optimizeO3(hardened)]) {
        for (const bit of [0, 1]) injectWrongEdges(binary, input, name === 'eddi-cfc', tally, true, bit);
      }
      expect(tally.caught).toBeGreaterThan(4);
    });
  }
});

describe('the named hardenings and the passes', () => {
  it('swift-cfc and eddi-cfc are SWIFT and EDDI with the default families and edges', () => {
    for (const name of CFC) expect(HARDENINGS[name].families).toEqual([...DEFAULT_FAMILIES, 'edges']);
    expect(HARDENINGS['swift-cfc'].mode).toBe('swift');
    expect(HARDENINGS['eddi-cfc'].mode).toBe('eddi');
  });

  it('the passes are registered by name and check edges', () => {
    for (const name of CFC) {
      const { reports } = transformBinary(referenceBytes(), [name], 'adcs');
      const report = reports.get(name) as { checks: { byFamily: Record<string, number> } };
      expect(report.checks.byFamily.edges).toBe(hardenModule(referenceBytes(), options(name)).report.checks.byFamily.edges);
    }
  });

  const dir = mkdtempSync(join(tmpdir(), 'lockstep-cfc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lockstep harden --mode takes a named hardening, and names the hardenings when given something else', async () => {
    const output = join(dir, 'adcs-swift-cfc.wasm');
    const ok = await cli(['harden', 'build/adcs.wasm', '-o', output, '--mode', 'swift-cfc']);
    expect(ok.code).toBe(EXIT.ok);
    expect(ok.stdout).toMatch(/edges \d+/);
    expect(Buffer.compare(readFileSync(output), hardenModule(referenceBytes(), options('swift-cfc')).binary)).toBe(0);
    const bad = await cli(['harden', 'build/adcs.wasm', '-o', join(dir, 'bad.wasm'), '--mode', 'tmr']);
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toMatch(/--mode: "tmr" is not a hardening \(swift, .*swift-cfc, eddi-cfc\)/);
  });
});

/** Runs a random module's `run` (test/random-module.ts) with the check import, and reports what it shows. */
function runEveryKind(
  module: Uint8Array | WebAssembly.Module,
  doubled: boolean,
  before?: (exports: Record<string, unknown>) => void,
  afterRun?: (exports: Record<string, unknown>) => void,
): { result: string; memory: string; globals: string; calls: string } {
  const compiled = module instanceof WebAssembly.Module ? module : new WebAssembly.Module(module as Uint8Array<ArrayBuffer>);
  const calls: number[] = [];
  const instance = new WebAssembly.Instance(compiled, {
    env: randomModuleHost(calls),
    lockstep: {
      check_failed: (site: number) => {
        throw new Error(`check ${site}`);
      },
    },
  });
  const exports = instance.exports as Record<string, unknown>;
  before?.(exports);
  let result: string;
  try {
    result = `ok ${(exports.run as () => number)()}`;
  } catch (error) {
    result = /^check/.test((error as Error).message) ? 'check' : `trap ${(error as Error).message}`;
  }
  afterRun?.(exports);
  const whole = Buffer.from((exports.memory as WebAssembly.Memory).buffer);
  const seen = doubled ? whole.subarray(whole.length / 2) : whole;
  return { result, memory: `${seen.length}:${seen.toString('base64')}`, globals: randomModuleGlobals(exports), calls: calls.join(',') };
}

