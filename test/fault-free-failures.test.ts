// Flight software that fails with no upset at all — init traps, a fault-free cycle traps or overruns the
// watchdog — is the user's mistake, not an outcome of an upset: `fly`, `campaign`, `inspect` and `bench`
// refuse it with the same one line (what failed, at which cycle), their exit code and no output file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlightModule } from '../src/core/flight-module.js';
import { FlightSoftwareError } from '../src/mission/fly.js';
import { describeFaultFreeFailure, flyOneCore, simulateFaultFree } from '../src/mission/fault-free.js';
import { faultyModule, setupFor, wat } from './support.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const EXIT = { ok: 0, module: 4, flightSoftware: 6, results: 8 } as const;

const HEAD = `(module
  (import "bus" "gyro_x" (func $gyro_x (result f64)))
  (import "bus" "torque_x" (func $torque_x (param f64)))
  (memory (export "memory") 1)`;
const STEP = '(call $torque_x (f64.mul (f64.const -2) (call $gyro_x)))';
/** Counts its cycles at address 0 and misbehaves (`bad`) in cycle `cycle`. */
const failsInCycle = (cycle: number, bad: string) => `${HEAD}
  (func (export "init") (i32.store (i32.const 0) (i32.const 0)))
  (func (export "step")
    (if (i32.eq (i32.load (i32.const 0)) (i32.const ${cycle})) (then ${bad}))
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
    ${STEP}))`;

/** Each module, and how every command words its failure (the watchdog budget of the reference mission: 0.4 × 100 ms × 10 MIPS). */
const FAILING = [
  { name: 'init-trap', text: `${HEAD} (func (export "init") (unreachable)) (func (export "step") ${STEP}))`, failure: 'init traps (unreachable)' },
  { name: 'cycle3-trap', text: failsInCycle(3, '(drop (i32.load (i32.const 65536)))'), failure: 'cycle 3 of a fault-free flight traps (out-of-bounds)' },
  { name: 'cycle2-hang', text: failsInCycle(2, '(loop $spin (br $spin))'), failure: 'cycle 2 of a fault-free flight exceeds the watchdog budget of 400000 instructions' },
] as const;

let dir: string;
const run = (args: readonly string[]) => {
  const result = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  if (result.error) throw result.error;
  return result;
};
const oneLine = (name: string, failure: string) => `lockstep: ${name}.wasm: fails with no upset: ${failure}\n`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-fault-free-'));
  for (const { name, text } of FAILING) writeFileSync(join(dir, `${name}.wasm`), wat(text));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('flight software that fails with no upset', () => {
  it('fly refuses it before the faulty run: one line, exit 6, no summary and no output file', () => {
    for (const { name, failure } of FAILING) {
      const result = run(['fly', '--fsw', `${name}.wasm`, '--duration', '10', '--json', `${name}-fly.json`, '--telemetry', `${name}-fly.csv`]);
      expect(result.stderr, name).toBe(oneLine(name, failure));
      expect(result.status, name).toBe(EXIT.flightSoftware);
      expect(result.stdout, name).toBe('');
      expect(existsSync(join(dir, `${name}-fly.json`)), name).toBe(false);
      expect(existsSync(join(dir, `${name}-fly.csv`)), name).toBe(false);
    }
  });

  it('fly refuses it even when no upset is asked for', () => {
    const result = run(['fly', '--fsw', 'cycle3-trap.wasm', '--duration', '10', '--upsets', '0', '--quiet']);
    expect(result.stderr).toBe(oneLine('cycle3-trap', FAILING[1].failure));
    expect(result.status).toBe(EXIT.flightSoftware);
  });

  it('campaign refuses it at its golden run: one line, exit 6, no result file and no summary', () => {
    for (const { name, failure } of FAILING) {
      const result = run(['campaign', '--fsw', `${name}.wasm`, '--duration', '10', '--experiments', '20', '--jobs', '1', '--out', `${name}.jsonl`, '--json', `${name}-campaign.json`]);
      expect(result.stderr, name).toBe(oneLine(name, failure));
      expect(result.status, name).toBe(EXIT.flightSoftware);
      expect(result.stdout, name).toBe('');
      expect(existsSync(join(dir, `${name}.jsonl`)), name).toBe(false);
      expect(existsSync(join(dir, `${name}-campaign.json`)), name).toBe(false);
    }
  });

  it('campaign --resume leaves an existing result file untouched', () => {
    writeFileSync(join(dir, 'kept.jsonl'), 'not touched\n');
    const result = run(['campaign', '--fsw', 'init-trap.wasm', '--duration', '10', '--experiments', '20', '--jobs', '1', '--out', 'kept.jsonl', '--resume']);
    // The results file is checked first (before the golden run): it is no campaign's, and is refused as such.
    expect(result.status).toBe(EXIT.results);
    expect(readFileSync(join(dir, 'kept.jsonl'), 'utf8')).toBe('not touched\n');
  });

  it('inspect lists it as a problem (text and JSON) and exits 4', () => {
    for (const { name, failure } of FAILING) {
      const result = run(['inspect', `${name}.wasm`, '--json', `${name}-inspect.json`]);
      expect(result.status, name).toBe(EXIT.module);
      expect(result.stdout, name).toMatch(/does NOT conform to the flight-software ABI/);
      expect(result.stdout, name).toContain(`    ✗ ${failure}\n`);
      expect(result.stderr, name).toBe(oneLine(name, failure));
      const report = JSON.parse(readFileSync(join(dir, `${name}-inspect.json`), 'utf8'));
      expect(report.conforms, name).toBe(false);
      expect(report.problems, name).toEqual([failure]);
    }
  });

  it('inspect --cycles 0 still runs init; --cycles flies only as many cycles as it says', () => {
    writeFileSync(join(dir, 'init-hang.wasm'), wat(`${HEAD} (func (export "init") (loop $spin (br $spin))) (func (export "step") ${STEP}))`));
    const hang = run(['inspect', 'init-hang.wasm', '--cycles', '0']);
    expect(hang.status).toBe(EXIT.module);
    expect(hang.stderr).toBe(oneLine('init-hang', 'init exceeds the boot budget of 10000000 instructions'));
    const trap = run(['inspect', 'init-trap.wasm', '--cycles', '0']);
    expect(trap.status).toBe(EXIT.module);
    expect(trap.stderr).toBe(oneLine('init-trap', 'init traps (unreachable)'));
    const early = run(['inspect', 'cycle3-trap.wasm', '--cycles', '3', '--json', 'early.json']);
    expect(early.stderr).toBe('');
    expect(early.status).toBe(EXIT.ok);
    expect(JSON.parse(readFileSync(join(dir, 'early.json'), 'utf8'))).toMatchObject({ conforms: true, problems: [], cycleCost: { cycles: 3 } });
  });

  it('bench refuses it with the same line and exit 6', () => {
    const result = run(['bench', '--fsw', 'cycle2-hang.wasm', '--rounds', '1', '--cycles', '5', '--experiments', '0', '--json', 'bench.json']);
    expect(result.stderr).toBe(oneLine('cycle2-hang', FAILING[2].failure));
    expect(result.status).toBe(EXIT.flightSoftware);
    expect(existsSync(join(dir, 'bench.json'))).toBe(false);
  });

  it('leaves no temporary file behind', () => {
    expect(readdirSync(dir).filter((file) => file.includes('.tmp'))).toEqual([]);
  });
});

describe('the fault-free rule as a library', () => {
  it('one core flying the mission finds the first failure; a good module has none', () => {
    const module = FlightModule.fromBytes(wat(FAILING[1].text), 'cycle3.wat');
    const setup = setupFor({ duration: 10 }, module);
    const flown: number[] = [];
    const failure = flyOneCore(setup, 10, (cycle) => flown.push(cycle));
    expect(failure).toEqual({ cycle: 3, cause: 'trap', trap: 'out-of-bounds', budget: 400_000 });
    expect(flown).toEqual([0, 1, 2]);
    expect(flyOneCore(setup, 3)).toBeNull();
    expect(flyOneCore(setupFor({ duration: 10 }, faultyModule('trap')), 100)).toBeNull();
  });

  it('simulateFaultFree returns the run of good software and throws FlightSoftwareError for failing software', () => {
    const good = simulateFaultFree(setupFor({ duration: 5 }, faultyModule('none')));
    expect(good.detections).toEqual({ mismatch: 0, trap: 0, watchdog: 0, check: 0, abort: 0 });
    const setup = setupFor({ duration: 10 }, FlightModule.fromBytes(wat(FAILING[2].text), 'hang.wat'));
    expect(() => simulateFaultFree(setup)).toThrow(FlightSoftwareError);
    expect(() => simulateFaultFree(setup)).toThrow(`hang.wat: fails with no upset: ${FAILING[2].failure}`);
  });

  it('words what the flight computer alone sees', () => {
    expect(describeFaultFreeFailure({ cycle: 7, cause: 'mismatch' })).toMatch(/^cycle 7 of a fault-free flight: the two cores of a processor disagree/);
    expect(describeFaultFreeFailure({ cycle: 7, cause: 'missed-deadline' })).toMatch(/^cycle 7 of a fault-free flight misses its deadline/);
    expect(describeFaultFreeFailure({ cycle: null, cause: 'check' })).toMatch(/^init fails one of the module's own software checks/);
  });
});
