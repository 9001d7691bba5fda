// SWIFT and EDDI (src/passes/swift.ts, eddi.ts, hardening-common.ts; src/harden.ts): a hardened module
// computes bit for bit what the original computes, on generated programs and inputs and on the reference
// flight software cycle by cycle; a flipped bit in a value or a shadow is caught; the checks survive
// Binaryen's -O3; options, errors and the report.
import v8 from 'node:v8';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECK_FAMILIES, hardenModule, type CheckFamily, type HardenOptions } from '../src/harden.js';
import { assemble, choicesArbitrary, inputArbitrary, observable, programText, runProgram } from './harden-programs.js';

const MODES = ['swift', 'eddi'] as const;

/** Original and hardened agree on every input: result bits or trap, memory, globals, host calls. */
function agreeOn(text: string, options: HardenOptions, inputs: ReadonlyArray<Parameters<typeof runProgram>[1]>): void {
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

const inputsArbitrary = fc.array(inputArbitrary, { minLength: 1, maxLength: 4 });

describe('semantics: a hardened program computes what the original computes', () => {
  for (const mode of MODES) {
    it(`${mode}: same result bits or trap, same memory, globals and host calls, on generated programs and inputs`, () => {
      fc.assert(
        fc.property(choicesArbitrary, inputsArbitrary, (choices, inputs) => agreeOn(programText(choices), { mode }, inputs)),
        { numRuns: 300 },
      );
    });

    it(`${mode}: the same with any set of check families (none included) and deeper programs`, () => {
      fc.assert(
        fc.property(choicesArbitrary, inputsArbitrary, fc.subarray([...CHECK_FAMILIES]), fc.integer({ min: 2, max: 6 }), (choices, inputs, families, depth) =>
          agreeOn(programText(choices, depth), { mode, families: families as CheckFamily[] }, inputs),
        ),
        { numRuns: 150 },
      );
    });
  }

  // V8's optimizing compiler picks NaN payloads differently from its baseline compiler (by register
  // allocation, and by folding some operations on constants), for the original as much as the hardened
  // module; these programs canonicalize NaNs where their bits become observable (harden-programs.ts),
  // so that everything else is compared bit for bit with every function compiled by TurboFan, where the
  // shadows' opacity and the checks' NaN tolerance matter.
  describe('with every function compiled by the optimizing compiler', () => {
    beforeAll(() => v8.setFlagsFromString('--no-liftoff'));
    afterAll(() => v8.setFlagsFromString('--liftoff'));
    for (const mode of MODES) {
      it(`${mode}: same observable outcome`, () => {
        fc.assert(
          fc.property(choicesArbitrary, inputsArbitrary, fc.integer({ min: 2, max: 6 }), (choices, inputs, depth) =>
            agreeOn(programText(choices, depth, { canonicalNaNs: true }), { mode, families: [...CHECK_FAMILIES] }, inputs),
          ),
          { numRuns: 300 },
        );
      });
    }
  });
});
