// `lockstep inspect` and `lockstep init` as a user meets them: spawned, with their output, files and exit
// codes; a mission written by init flies as it stands.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import binaryen from '../src/passes/binaryen.js';
import { wat } from './support.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const run = (args: readonly string[]) => {
  const result = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  if (result.error) throw result.error;
  return result;
};
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-tools-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lockstep inspect', () => {
  it('reports a conforming module, with its measured cycle cost, as text and JSON', () => {
    const result = run(['inspect', join(ROOT, 'build/adcs.wasm'), '--json', 'inspect.json']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/conforms to the flight-software ABI/);
    expect(result.stdout).toMatch(/bus outputs   torque_x, torque_y, torque_z, mode/);
    expect(result.stdout).toMatch(/cycle cost    [\d,]+ instructions per cycle on average/);
    const report = JSON.parse(readFileSync(join(dir, 'inspect.json'), 'utf8'));
    expect(report.conforms).toBe(true);
    expect(report.cycleCost.meanInstructions).toBeGreaterThan(1000);
    expect(report.faultSpace.memoryBitsPerCore).toBe(524288);
  });

  it('lists every problem of a module that breaks the ABI and exits 4', () => {
    writeFileSync(join(dir, 'bad.wasm'), wat('(module (import "env" "clock" (func (result f64))) (func (export "init") (param i32)))'));
    const result = run(['inspect', 'bad.wasm']);
    expect(result.status).toBe(4);
    expect(result.stdout).toMatch(/does NOT conform/);
    expect(result.stdout).toMatch(/✗ import "env"\."clock"/);
    expect(result.stdout).toMatch(/✗ export "init": has the signature \(i32\) -> \(\)/);
    expect(result.stdout).toMatch(/✗ export "step": missing/);
    expect(result.stdout).toMatch(/✗ memory: the module has none/);
    expect(result.stderr.trim().split('\n')).toEqual(['lockstep: bad.wasm: breaks the flight-software ABI in 4 ways (listed above)']);
  });

  it('answers a file that is not WebAssembly with one line and exit 4', () => {
    writeFileSync(join(dir, 'notes.wasm'), 'not a module');
    const result = run(['inspect', 'notes.wasm']);
    expect(result.status).toBe(4);
    expect(result.stderr).toBe('lockstep: notes.wasm: not a WebAssembly binary (it does not start with the \\0asm magic number)\n');
  });
});

describe('whole-number options out of range', () => {
  it('are refused by the option, with its value, before any work (exit 2)', () => {
    writeFileSync(join(dir, 'none.jsonl'), '');
    for (const args of [
      ['inspect', join(ROOT, 'build/adcs.wasm'), '--cycles', '-1'],
      ['campaign', '--experiments', '0'],
      ['campaign', '--experiments', '-1'],
      ['bench', '--rounds', '0'],
      ['bench', '--cycles', '-3'],
      ['bench', '--experiments', '-1'],
      ['replay', 'none.jsonl', '--index', '-1'],
    ]) {
      const [option, value] = args.slice(-2);
      const result = run(args);
      const label = `${args.join(' ')}\n${result.stderr}`;
      expect(result.status, label).toBe(2);
      expect(result.stdout, label).toBe('');
      expect(result.stderr.trimEnd().split('\n'), label).toHaveLength(1);
      expect(result.stderr, label).toContain(`${option} takes a whole number`);
      expect(result.stderr, label).toContain(`not "${value}"`);
    }
    // Checked by the campaign itself (before its golden run), by name.
    for (const [option, value] of [['--horizon', '-5'], ['--width', '65'], ['--jobs', '0'], ['--shards', '0']]) {
      const result = run(['campaign', option, value]);
      expect(result.status, option).toBe(2);
      expect(result.stderr, option).toMatch(new RegExp(`^lockstep: ${option}: must be`));
    }
  });
});

describe('lockstep init', () => {
  it('writes a mission that names its schema and flies as written', () => {
    const result = run(['init', 'mission.json', '--scenario', 'large']);
    expect(result.status).toBe(0);
    const mission = JSON.parse(readFileSync(join(dir, 'mission.json'), 'utf8'));
    expect(mission.scenario).toBe('large');
    const schemaPath = join(dir, mission.$schema);
    expect(existsSync(schemaPath)).toBe(true);
    expect(JSON.parse(readFileSync(schemaPath, 'utf8')).$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    mission.duration = 20;
    mission.upsets = { count: 2 };
    writeFileSync(join(dir, 'mission.json'), JSON.stringify(mission));
    const flight = run(['fly', '--config', 'mission.json', '--quiet', '--json', 'flight.json']);
    expect(flight.stderr).toBe('');
    expect(flight.status).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'flight.json'), 'utf8'))).toMatchObject({ scenario: 'large', cycles: 200, upsetsInjected: 2 });
  });

  it('never overwrites a file unless --force', () => {
    writeFileSync(join(dir, 'mine.json'), '{"keep": true}');
    const refused = run(['init', 'mine.json']);
    expect(refused.status).toBe(7);
    expect(refused.stderr).toBe('lockstep: mine.json: exists already (--force overwrites it)\n');
    expect(readFileSync(join(dir, 'mine.json'), 'utf8')).toBe('{"keep": true}');
    expect(run(['init', 'mine.json', '--force']).status).toBe(0);
  });

  it('resolves the flight software named in a mission file next to the file', () => {
    writeFileSync(join(dir, 'local.json'), JSON.stringify({ fsw: 'missing-fsw.wasm', duration: 1 }));
    const result = run(['fly', '--config', 'local.json', '--quiet']);
    expect(result.status).toBe(4);
    expect(result.stderr).toBe(`lockstep: ${join(dir, 'missing-fsw.wasm')}: cannot be read (ENOENT)\n`);
  });
});

describe('lockstep harden', () => {
  it('hardens the reference flight software and reports what it added; the result flies with the same commands', () => {
    const result = run(['harden', join(ROOT, 'build/adcs.wasm'), '-o', 'adcs-swift.wasm', '--mode', 'swift', '--json', 'harden.json']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/checks\s+\d+ \(stores \d+/);
    const report = JSON.parse(readFileSync(join(dir, 'harden.json'), 'utf8'));
    expect(report.mode).toBe('swift');
    expect(report.checks.total).toBeGreaterThan(10);
    expect(report.bytes.ratio).toBeGreaterThan(1);
    const plain = run(['fly', '--duration', '20', '--upsets', '0', '--quiet', '--json', 'plain.json']);
    const hardened = run(['fly', '--fsw', 'adcs-swift.wasm', '--duration', '20', '--upsets', '0', '--quiet', '--json', 'hardened.json']);
    expect(plain.status).toBe(0);
    expect(hardened.status).toBe(0);
    const digest = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')).commandDigest;
    expect(digest('hardened.json')).toBe(digest('plain.json'));
  });

  it('keeps the module\'s names: inspect calls the hardened C program\'s functions and globals what its source does', () => {
    const result = run(['harden', join(ROOT, 'examples/c-adcs/adcs.wasm'), '-o', 'c-adcs-eddi.wasm', '--mode', 'eddi']);
    expect(result.status).toBe(0);
    const inspect = run(['inspect', 'c-adcs-eddi.wasm']);
    expect(inspect.status).toBe(0);
    expect(inspect.stdout).toMatch(/largest: step [\d,]+, estimator_star_update [\d,]+, estimator_propagate/);
    expect(inspect.stdout).toMatch(/globals .*__stack_pointer i32/);
    expect(inspect.stdout).not.toMatch(/function #|global\$\d/);
  });

  it('refuses bad input with one line, a non-zero exit and no output file', () => {
    writeFileSync(join(dir, 'text.wasm'), 'not a module');
    const invalid = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 3, 2, 1, 0, 10, 15, 1, 13, 0, 0x41, 1, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x6a, 0x1a, 0x0b]);
    writeFileSync(join(dir, 'invalid.wasm'), invalid);
    const atomics = binaryen.parseText('(module (memory 1 1 shared) (func (export "spin") (param i32) (result i32) (i32.atomic.rmw.add (local.get 0) (i32.const 1))))');
    atomics.setFeatures(binaryen.Features.All);
    writeFileSync(join(dir, 'atomics.wasm'), atomics.emitBinary());
    atomics.dispose();
    const cases: Array<[string[], number, RegExp]> = [
      [['harden', 'text.wasm', '-o', 'out1.wasm', '--mode', 'swift'], 4, /text\.wasm: not a WebAssembly binary/],
      [['harden', 'invalid.wasm', '-o', 'out2.wasm', '--mode', 'eddi'], 4, /invalid\.wasm: is not a valid WebAssembly module/],
      [['harden', 'atomics.wasm', '-o', 'out5.wasm', '--mode', 'swift'], 4, /atomics\.wasm: uses threads \(atomics, shared memory\), which lockstep does not support; compile without it \(clang: -mcpu=mvp/],
      [['harden', join(ROOT, 'build/adcs.wasm'), '-o', 'out6.wasm', '--mode', 'eddi', '--copy-loads'], 2, /--copy-loads: EDDI loads shadows from shadow memory/],
      [['harden', join(ROOT, 'build/adcs.wasm'), '-o', 'out7.wasm', '--mode', 'swift', '--pure-imports', 'bus'], 2, /--pure-imports: "bus" names no import/],
      [['harden', join(ROOT, 'build/adcs.wasm'), '-o', 'out3.wasm', '--mode', 'tmr'], 2, /--mode: "tmr" is not a hardening \(swift, /],
      [['harden', join(ROOT, 'build/adcs.wasm'), '-o', 'out4.wasm', '--mode', 'swift', '--checks', 'everything'], 2, /"everything" is not a check family/],
    ];
    for (const [args, code, message] of cases) {
      const result = run(args);
      expect(result.status, args.join(' ')).toBe(code);
      expect(result.stderr, args.join(' ')).toMatch(message);
      expect(result.stderr).not.toContain('    at ');
      expect(existsSync(join(dir, args[3]))).toBe(false);
    }
  });
});
