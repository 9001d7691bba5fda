// The flight-software ABI as a contract (src/abi/contract.ts): what `lockstep inspect` reports, every way a
// module can break the contract named in one message, the channel map, and — as properties over generated
// garbage and mutated valid modules — that the checker answers every input without an uncaught exception.
import { readFileSync } from 'node:fs';
import binaryen from 'assemblyscript/binaryen';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inspectModule } from '../src/abi/contract.js';
import { FlightModule } from '../src/core/flight-module.js';
import { REFERENCE_FSW } from '../src/mission/fly.js';
import { ModuleError } from '../src/passes/index.js';
import { fly, setupFor, wat } from './support.js';

const REFERENCE_BYTES = new Uint8Array(readFileSync(REFERENCE_FSW));

/** A conforming module with one state global, whose imports have the names of a different bus. */
const RENAMED = `(module
  (import "bus" "gyro.x" (func $gyro_x (result f64)))
  (import "bus" "wheel.torque.x" (func $torque_x (param f64)))
  (memory (export "memory") 1)
  (global $count (mut i32) (i32.const 0))
  (func (export "init") (global.set $count (i32.const 0)))
  (func (export "step")
    (global.set $count (i32.add (global.get $count) (i32.const 1)))
    (call $torque_x (f64.mul (call $gyro_x) (f64.const -0.5)))))`;

function problemsOf(text: string, options = {}): string[] {
  return inspectModule(wat(text), 'm.wasm', options).problems;
}

describe('inspect report', () => {
  it('describes the reference flight software: exports, every bus channel it uses, memory, fault space', () => {
    const report = inspectModule(REFERENCE_BYTES, 'adcs.wasm');
    expect(report.problems).toEqual([]);
    expect(report.exports.map((entry) => `${entry.name} ${entry.signature ?? entry.kind}`)).toEqual(
      expect.arrayContaining(['init () -> ()', 'step () -> ()', 'memory memory']),
    );
    const inputs = report.imports.filter((entry) => entry.direction === 'input').map((entry) => entry.channel);
    const outputs = report.imports.filter((entry) => entry.direction === 'output').map((entry) => entry.channel);
    expect(inputs).toContain('gyro_x');
    expect(inputs).toContain('star_qw');
    expect(outputs).toEqual(['torque_x', 'torque_y', 'torque_z', 'mode']);
    expect(report.memory).toEqual({ initialPages: 1, maxPages: null, exported: true });
    expect(report.startFunction).toBeNull();
    expect(report.functions.largest[0].name).toBe('step');
    expect(report.functions.instructions).toBeGreaterThan(500);
    expect(report.faultSpace.memoryBitsPerCore).toBe(65536 * 8);
  });

  it('counts the bits of each mutable global in the fault space', () => {
    const report = inspectModule(wat(RENAMED), 'renamed.wasm', { channelMap: { 'gyro.x': 'gyro_x', 'wheel.torque.x': 'torque_x' } });
    expect(report.problems).toEqual([]);
    expect(report.faultSpace.globalBitsPerCore).toBe(32);
    expect(report.faultSpace.checkpointBits).toBe(65536 * 8 + 32);
    expect(report.imports.map((entry) => [entry.name, entry.channel, entry.direction])).toEqual([
      ['gyro.x', 'gyro_x', 'input'],
      ['wheel.torque.x', 'torque_x', 'output'],
    ]);
  });
});

describe('contract violations, each named', () => {
  const base = (body: string) => `(module ${body})`;
  const entries = '(func (export "init")) (func (export "step"))';
  const cases: Array<[string, string, RegExp]> = [
    ['an import outside the bus', base(`(import "env" "seed" (func (result f64))) (memory (export "memory") 1) ${entries}`), /import "env"\."seed": flight software may import only from module "bus"/],
    ['AssemblyScript\'s abort with another signature', base(`(import "env" "abort" (func)) (memory (export "memory") 1) ${entries}`), /import "env"\."abort": has the signature \(\) -> \(\); it must be \(i32, i32, i32, i32\) -> \(\)/],
    ['a debug output with the wrong signature', base(`(import "debug" "bias_x" (func (param f32))) (memory (export "memory") 1) ${entries}`), /import "debug"\."bias_x": a debug output has the signature \(f64\) -> \(\), not \(f32\) -> \(\)/],
    ['a debug output whose name is no telemetry column', base(`(import "debug" "bias x" (func (param f64))) (memory (export "memory") 1) ${entries}`), /import "debug"\."bias x": a debug output's name is 1 to 64 letters, digits and _/],
    ['a debug output reading a value', base(`(import "debug" "bias_x" (func (result f64))) (memory (export "memory") 1) ${entries}`), /import "debug"\."bias_x": a debug output has the signature/],
    ['an unknown bus channel', base(`(import "bus" "sun_x" (func (result f64))) (memory (export "memory") 1) ${entries}`), /import "bus"\."sun_x": the bus has no channel "sun_x"/],
    ['an input with the wrong signature', base(`(import "bus" "gyro_x" (func (result f32))) (memory (export "memory") 1) ${entries}`), /input channel gyro_x has the signature \(\) -> \(f64\), not \(\) -> \(f32\)/],
    ['an output with the wrong signature', base(`(import "bus" "torque_x" (func (param f64) (result i32))) (memory (export "memory") 1) ${entries}`), /output channel torque_x has the signature \(f64\) -> \(\)/],
    ['a missing step', base('(memory (export "memory") 1) (func (export "init"))'), /export "step": missing/],
    ['a mistyped init', base('(memory (export "memory") 1) (func (export "init") (param i32)) (func (export "step"))'), /export "init": has the signature \(i32\) -> \(\); it must be \(\) -> \(\)/],
    ['step exported as a global', base('(memory (export "memory") 1) (func (export "init")) (global (export "step") i32 (i32.const 0))'), /export "step": is a global/],
    ['no memory', base(entries), /memory: the module has none/],
    ['an imported memory', base(`(import "env" "memory" (memory 1)) ${entries}`), /must define its own memory/],
    ['a start function', base(`(memory (export "memory") 1) ${entries} (func $boot) (start $boot)`), /start function .*: not allowed/],
    ['an imported global', base(`(import "env" "g" (global i32)) (memory (export "memory") 1) ${entries}`), /not globals/],
  ];
  for (const [name, text, message] of cases) {
    it(name, () => {
      const problems = problemsOf(text);
      expect(problems.some((problem) => message.test(problem)), problems.join('\n')).toBe(true);
      expect(() => FlightModule.fromBytes(wat(text), 'm.wasm')).toThrow(ModuleError);
    });
  }

  it('more debug outputs than the written mask holds: the first one too many is named', () => {
    const imports = Array.from({ length: 30 }, (_, i) => `(import "debug" "v${i}" (func (param f64)))`).join(' ');
    const problems = problemsOf(base(`${imports} (memory (export "memory") 1) ${entries}`));
    expect(problems).toEqual([
      'import "debug"."v28": one debug output too many; a module may have at most 28',
      'import "debug"."v29": one debug output too many; a module may have at most 28',
    ]);
  });

  it('memory over the configured limit', () => {
    const text = base(`(memory (export "memory") 5) ${entries}`);
    expect(problemsOf(text, { memoryLimitPages: 4 })).toEqual(['memory: starts with 5 pages, more than the limit of 4 (memoryLimitPages)']);
    expect(problemsOf(text, { memoryLimitPages: 5 })).toEqual([]);
  });

  it('a channel map naming an import the module does not have, or a channel the bus does not have', () => {
    expect(problemsOf(RENAMED, { channelMap: { 'gyro.x': 'gyro_x', 'wheel.torque.x': 'torque_x', 'sun.x': 'gyro_y' } })).toContain(
      'channel map: the module does not import "sun.x" (mapped to gyro_y)',
    );
    expect(problemsOf(RENAMED, { channelMap: { 'gyro.x': 'gyro_x', 'wheel.torque.x': 'thrust' } }).join('\n')).toMatch(/the bus has no channel "thrust"/);
  });

  it('a message names the first problem and says how many more there are', () => {
    expect(() => FlightModule.fromBytes(wat(base('(func (export "init"))')), 'two.wasm')).toThrow(
      /^two\.wasm: export "step": missing.*\(and 1 more; `lockstep inspect` lists them\)$/,
    );
  });

  it('a module that does not validate, and one using a feature the passes do not support, are named as such', () => {
    // An i32.add given an f64: decodes, does not validate.
    const invalid = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10, 15, 1, 13, 0, 0x41, 1, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x6a, 0x1a, 0x0b]);
    expect(() => inspectModule(invalid, 'invalid.wasm')).toThrow(/^invalid\.wasm: is not a valid WebAssembly module/);
    const parsed = binaryen.parseText('(module (memory 1 1 shared) (func (export "f") (drop (i32.atomic.load (i32.const 0)))))');
    parsed.setFeatures(binaryen.Features.All);
    const threads = parsed.emitBinary();
    parsed.dispose();
    expect(() => inspectModule(threads, 'threads.wasm')).toThrow(/^threads\.wasm: uses threads \(atomics, shared memory\), which lockstep does not support/);
  });

  it('an unsupported feature is named, with the clang and asc options that leave it out, not as Binaryen\'s flag', () => {
    const binary = (text: string) => {
      const parsed = binaryen.parseText(text);
      parsed.setFeatures(binaryen.Features.All);
      try {
        return parsed.emitBinary();
      } finally {
        parsed.dispose();
      }
    };
    const cases: Array<[string, string, RegExp]> = [
      ['(module (memory 1 1 shared) (func (export "f") (drop (i32.atomic.load (i32.const 0)))))', 'threads (atomics, shared memory)', /clang: -mcpu=mvp, or -mno-atomics.*AssemblyScript: leave out --enable threads/],
      ['(module (func $g) (func (export "f") (return_call $g)))', 'tail calls', /clang: -mcpu=mvp, or -mno-tail-call\)$/],
      ['(module (tag $t) (func (export "f") (throw $t)))', 'exception handling', /clang: -mcpu=mvp, or -mno-exception-handling/],
      [
        '(module (memory 1 1 shared) (func $g) (func (export "f") (drop (i32.atomic.load (i32.const 0))) (return_call $g)))',
        'threads (atomics, shared memory) and tail calls',
        /compile without them \(clang: -mcpu=mvp, or -mno-atomics \(and no -pthread\) -mno-tail-call; AssemblyScript: leave out --enable threads/,
      ],
    ];
    for (const [text, feature, options] of cases) {
      let message = '';
      try {
        inspectModule(binary(text), 'm.wasm');
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain(`m.wasm: uses ${feature}, which lockstep does not support; compile without`);
      expect(message).toMatch(options);
      // Not the features lockstep does support, and no Binaryen command-line flag.
      expect(message).not.toMatch(/MVP, mutable globals|--enable-|sign extension/);
    }
  });

  it('bytes that are not WebAssembly, or are cut short, are refused by the engine with the offset at fault', () => {
    expect(() => inspectModule(new TextEncoder().encode('hello, world'), 'text.wasm')).toThrow(/text\.wasm: not a WebAssembly binary/);
    expect(() => inspectModule(REFERENCE_BYTES.subarray(0, REFERENCE_BYTES.length - 7), 'cut.wasm')).toThrow(/cut\.wasm: is not a valid WebAssembly module \(truncated or malformed\)/);
  });
});

describe('debug outputs and AssemblyScript\'s abort conform', () => {
  it('the report lists the debug outputs by name, once each, after the bus channels; env.abort is accepted', () => {
    const text = `(module
      (import "debug" "star_innovation" (func $innovation (param f64)))
      (import "env" "abort" (func $abort (param i32 i32 i32 i32)))
      (import "bus" "torque_x" (func $torque_x (param f64)))
      (import "debug" "gyro_bias_x" (func $bias (param f64)))
      (import "debug" "star_innovation" (func $again (param f64)))
      (memory (export "memory") 1)
      (func (export "init"))
      (func (export "step") (call $torque_x (f64.const 0))))`;
    const report = inspectModule(wat(text), 'debug.wasm');
    expect(report.problems).toEqual([]);
    expect(report.debugOutputs).toEqual(['gyro_bias_x', 'star_innovation']);
    expect(report.importsAbort).toBe(true);
    expect(report.imports.map((entry) => `${entry.module}.${entry.name}:${entry.direction}`)).toEqual([
      'bus.torque_x:output',
      'debug.gyro_bias_x:debug',
      'debug.star_innovation:debug',
      'debug.star_innovation:debug',
      'env.abort:null',
    ]);
  });

  it('the reference flight software publishes the gyro bias and the star-tracker innovation', () => {
    expect(inspectModule(REFERENCE_BYTES, 'adcs.wasm').debugOutputs).toEqual(['gyro_bias_x', 'gyro_bias_y', 'gyro_bias_z', 'star_innovation']);
  });
});

describe('the channel map flies a module whose imports are named otherwise', () => {
  it('wires gyro.x to gyro_x and wheel.torque.x to torque_x, and the module flies', () => {
    const channelMap = { 'gyro.x': 'gyro_x', 'wheel.torque.x': 'torque_x' };
    expect(() => FlightModule.fromBytes(wat(RENAMED), 'renamed.wasm')).toThrow(/the bus has no channel "gyro\.x"/);
    const module = FlightModule.fromBytes(wat(RENAMED), 'renamed.wasm', { channelMap });
    const { result, rows } = fly(setupFor({ duration: 2, channels: channelMap }, module), []);
    expect(result.detections).toEqual({ mismatch: 0, trap: 0, watchdog: 0, check: 0, abort: 0 });
    // torque_x = -0.5 · gyro_x: the output really is wired to the renamed import.
    expect(rows.slice(1).some((row) => row.torque[0] !== 0)).toBe(true);
  });
});

describe('no input makes the checker throw anything but a ModuleError', () => {
  const answered = (bytes: Uint8Array) => {
    try {
      inspectModule(bytes, 'fuzz.wasm');
    } catch (error) {
      if (!(error instanceof ModuleError)) throw error;
      expect(error.message.startsWith('fuzz.wasm: ')).toBe(true);
    }
  };

  it('random bytes, with and without the magic number', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, magic) => {
        answered(magic ? new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...bytes]) : bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('the reference module with bytes flipped, cut or inserted', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(REFERENCE_BYTES.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.nat(REFERENCE_BYTES.length),
        fc.constantFrom('flip', 'cut', 'insert'),
        (edits, cut, mode) => {
          let bytes = Uint8Array.from(REFERENCE_BYTES);
          if (mode === 'cut') bytes = bytes.subarray(0, cut);
          else if (mode === 'insert') bytes = new Uint8Array([...bytes.subarray(0, cut), ...edits.map(([, value]) => value), ...bytes.subarray(cut)]);
          else for (const [at, mask] of edits) bytes[at] ^= mask;
          answered(bytes);
        },
      ),
      { numRuns: 300 },
    );
  });
});
