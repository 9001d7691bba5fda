// The `lockstep` command as a user meets it: bin/lockstep.js spawned in a child process (dist/ is built
// by the global setup). A good run exits 0 and writes the documented JSON and CSV; every user mistake
// gets one line on stderr, a non-zero exit code by kind (docs/cli.md), no stack trace and no output file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counterModuleText, faultyModuleText, wat } from './support.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const EXIT = { ok: 0, internal: 1, usage: 2, config: 3, module: 4, upsets: 5, flightSoftware: 6 } as const;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function lockstep(args: readonly string[]): Run {
  const result = spawnSync(process.execPath, ['bin/lockstep.js', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let dir: string;
const path = (name: string) => join(dir, name);
const write = (name: string, contents: unknown) => {
  writeFileSync(path(name), typeof contents === 'string' || contents instanceof Uint8Array ? contents : JSON.stringify(contents));
  return path(name);
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lockstep fly', () => {
  it('flies a short mission with random upsets and writes every documented JSON field', () => {
    const out = path('summary.json');
    const run = lockstep(['fly', '--duration', '30', '--upsets', '5', '--json', out]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(EXIT.ok);
    expect(run.stdout).toMatch(/^lockstep fly — reference mission, seed 1, spare hot/);
    expect(run.stdout).toContain('upsets injected      5');
    const summary = JSON.parse(readFileSync(out, 'utf8'));
    expect(summary).toMatchObject({
      seed: 1,
      scenario: 'reference',
      spare: 'hot',
      compareState: true,
      cycles: 300,
      upsetsInjected: 5,
      missedDeadlines: 0,
      undetectedDivergences: 0,
      undetectedDivergentCycles: 0,
      matchesFaultFree: true,
    });
    expect(Number.isInteger(summary.failovers)).toBe(true);
    for (const cause of ['mismatch', 'trap', 'watchdog', 'check', 'abort']) expect(Number.isInteger(summary.detections[cause])).toBe(true);
    expect(Object.keys(summary.detections).sort()).toEqual(['abort', 'check', 'mismatch', 'trap', 'watchdog']);
    expect(Object.keys(summary.mismatchKinds).sort()).toEqual(['outputs', 'state']);
    expect(summary.failovers).toBe(summary.detections.mismatch + summary.detections.trap + summary.detections.watchdog + summary.detections.check + summary.detections.abort);
    expect(summary.pointing.requirementDeg).toBe(0.05);
    for (const field of ['settleTimeS', 'maxErrorDegAfterSettling', 'rmsErrorDegAfterSettling', 'finalErrorDeg']) {
      expect(typeof summary.pointing[field], field).toBe('number');
    }
    // 30 s ends before the 300 s settling time: the requirement is not shown to be met.
    expect(summary.pointing.met).toBe(false);
    expect(summary.commandDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(summary.faultFreeCommandDigest).toBe(summary.commandDigest);
    expect(summary.timing).toMatchObject({ clockHz: 10e6, controlPeriodMs: 100, watchdogInstructions: 400_000 });
    for (const field of ['maxCycleMs', 'meanCycleMs', 'maxRecoveryMs']) expect(summary.timing[field]).toBeGreaterThanOrEqual(0);
    expect(summary.events.filter((event: { kind: string }) => event.kind === 'upset')).toHaveLength(5);
    expect(summary.redundancy).toBe('pair');
    expect(summary.health).toEqual({ failedProcessors: [], degradedAtCycle: null, spareFailuresDetected: 0, heartbeatLatencyCyclesMax: 0 });
    expect(readdirTemporaries()).toEqual([]);
  });

  it('reports the pointing requirement met on a mission that lasts beyond settling, and writes telemetry', () => {
    const out = path('long.json');
    const csv = path('long.csv');
    const run = lockstep(['fly', '--duration', '320', '--upsets', '0', '--json', out, '--telemetry', csv, '--quiet']);
    expect(run).toEqual({ status: EXIT.ok, stdout: '', stderr: '' });
    const summary = JSON.parse(readFileSync(out, 'utf8'));
    expect(summary.cycles).toBe(3200);
    expect(summary.pointing.met).toBe(true);
    expect(summary.pointing.maxErrorDegAfterSettling).toBeGreaterThan(0);
    expect(summary.pointing.maxErrorDegAfterSettling).toBeLessThanOrEqual(0.05);
    const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(3201);
    // The fixed columns, then the reference software's debug outputs by name.
    expect(lines[0].split(',')).toEqual([
      'cycle', 'time_s', 'pointing_error_deg', 'torque_x', 'torque_y', 'torque_z', 'mode', 'released', 'detection', 'failover', 'missed_deadline', 'modelled_ms',
      'debug.gyro_bias_x', 'debug.gyro_bias_y', 'debug.gyro_bias_z', 'debug.star_innovation',
    ]);
    // The bias from the first cycle on; the innovation from the first update after the star tracker's acquisition.
    expect(lines[1].split(',').slice(12)).toEqual(['0', '0', '0', '']);
    expect(lines[3200].split(',').slice(12).every((cell) => Number.isFinite(Number(cell)) && cell !== '')).toBe(true);
    expect(summary.debug.map((output: { name: string }) => output.name)).toEqual(['gyro_bias_x', 'gyro_bias_y', 'gyro_bias_z', 'star_innovation']);
    // The star tracker's noise is arcseconds: an innovation of a few µrad to a few hundred.
    expect(summary.debug[3].max).toBeLessThan(1e-3);
    expect(lines[3200].split(',')[0]).toBe('3199');
    expect(lines.slice(1).every((line) => line.split(',')[7] === '1')).toBe(true);
  });

  it('is reproducible: the same options give the same JSON', () => {
    const a = lockstep(['fly', '--duration', '20', '--seed', '11', '--upsets', '4', '--json', path('a.json'), '--quiet']);
    const b = lockstep(['fly', '--duration', '20', '--seed', '11', '--upsets', '4', '--json', path('b.json'), '--quiet']);
    expect(a.status).toBe(EXIT.ok);
    expect(b.status).toBe(EXIT.ok);
    expect(readFileSync(path('b.json'), 'utf8')).toBe(readFileSync(path('a.json'), 'utf8'));
  });

  it('takes a mission file, with command-line options overriding it', () => {
    const config = write('mission.json', { duration: 10, seed: 5, spare: 'cold', upsets: { count: 2, targets: ['memory'] } });
    const run = lockstep(['fly', '--config', config, '--spare', 'none', '--json', path('config.json'), '--quiet']);
    // With no spare, the cycle of a detected upset is lost: the command-stream gate fails the run (exit
    // 19, test/gates.test.ts), and the summary is written all the same.
    expect(run.status).toBe(19);
    const summary = JSON.parse(readFileSync(path('config.json'), 'utf8'));
    expect(summary).toMatchObject({ seed: 5, spare: 'none', cycles: 100, upsetsInjected: 2, matchesFaultFree: false });
  });

  it('flies scripted upsets from an upset file', () => {
    const upsets = write('scripted.json', { upsets: [{ cycle: 40, target: 'memory', core: 'B', address: 1031, bit: 6 }, { cycle: 10, target: 'checkpoint', address: 5, bit: 1 }] });
    const run = lockstep(['fly', '--duration', '10', '--upset-file', upsets, '--json', path('scripted-out.json'), '--quiet']);
    expect(run.status).toBe(EXIT.ok);
    const summary = JSON.parse(readFileSync(path('scripted-out.json'), 'utf8'));
    expect(summary.upsetsInjected).toBe(2);
    expect(summary.events.filter((event: { kind: string }) => event.kind === 'upset').map((event: { cycle: number }) => event.cycle)).toEqual([10, 40]);
  });
});

/** Temporary files of atomic writes left behind in the output directory. */
function readdirTemporaries(): string[] {
  return spawnSync('ls', [dir], { encoding: 'utf8' }).stdout.split('\n').filter((name) => name.includes('.tmp'));
}

describe('user mistakes', () => {
  function expectRefused(args: readonly string[], code: number, mentions: RegExp): void {
    const out = path(`refused-${Math.random().toString(36).slice(2)}.json`);
    const run = lockstep(['fly', '--duration', '5', ...args, '--json', out]);
    const label = `lockstep fly ${args.join(' ')}\n${run.stderr}`;
    expect(run.status, label).toBe(code);
    expect(run.stderr, label).not.toContain('    at ');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines, label).toHaveLength(1);
    expect(lines[0], label).toMatch(/^(lockstep: |error: )/);
    expect(lines[0], label).toMatch(mentions);
    expect(run.stdout, label).toBe('');
    expect(existsSync(out), label).toBe(false);
  }

  it('an unknown spare mode', () => expectRefused(['--spare', 'warm'], EXIT.config, /spare.*hot.*cold.*none/));
  it('a negative duration', () => expectRefused(['--duration', '-1'], EXIT.config, /duration/));
  it('a duration that is not a number', () => expectRefused(['--duration', 'abc'], EXIT.usage, /--duration.*abc/));
  it('an upset count that is not a whole number', () => expectRefused(['--upsets', '2.5'], EXIT.usage, /--upsets/));
  it('a missing mission file', () => expectRefused(['--config', path('missing.json')], EXIT.config, /missing\.json: cannot be read/));
  it('a mission file that is not JSON', () => expectRefused(['--config', write('broken.json', '{"duration": ')], EXIT.config, /broken\.json: not valid JSON/));
  it('a mission file with an unknown field', () => expectRefused(['--config', write('unknown.json', { duration: 5, sparee: 'hot' })], EXIT.config, /unknown\.json: .*sparee/));
  it('a mission file with a spare of the wrong type', () => expectRefused(['--config', write('spare3.json', { spare: 3 })], EXIT.config, /spare3\.json: spare: /));
  it('a mission file with an unknown upset field', () => expectRefused(['--config', write('upsets.json', { upsets: { count: 1, widht: 2 } })], EXIT.config, /upsets.*widht/));
  it('an upset file with a bad field', () => {
    const file = write('bad-upsets.json', { upsets: [{ cycle: 1, target: 'memory', address: 8, bit: 'high' }] });
    expectRefused(['--upset-file', file], EXIT.upsets, /bad-upsets\.json: upsets\[0\]\.bit: /);
  });
  it('an upset file that strikes outside memory', () => {
    const file = write('far-upsets.json', { upsets: [{ cycle: 1, target: 'memory', address: 10_000_000, bit: 0 }] });
    expectRefused(['--upset-file', file], EXIT.upsets, /upset 0 .*outside/);
  });
  it('flight software that is not WebAssembly', () => expectRefused(['--fsw', write('not.wasm', 'hello, world')], EXIT.module, /not\.wasm: not a WebAssembly binary/));
  it('flight software that imports from outside the bus', () => {
    const fsw = write('env.wasm', wat('(module (import "env" "seed" (func (result f64))) (memory (export "memory") 1) (func (export "init")) (func (export "step")))'));
    expectRefused(['--fsw', fsw], EXIT.module, /env\.wasm: import "env"\."seed": flight software may import only from module "bus"/);
  });
  it('flight software whose init traps', () => {
    const fsw = write('boot-trap.wasm', wat('(module (memory (export "memory") 1) (func (export "init") (unreachable)) (func (export "step")))'));
    expectRefused(['--fsw', fsw], EXIT.flightSoftware, /boot-trap\.wasm: fails with no upset: init traps \(unreachable\)$/);
  });
  it('two upset sources at once', () => expectRefused(['--upsets', '3', '--upset-rate', '1e-9'], EXIT.usage, /only one of --upsets, --upset-rate and --upset-file/));
  it('an unknown option (commander may add a suggestion line)', () => {
    const run = lockstep(['fly', '--duration', '5', '--spares', 'hot']);
    expect(run.status).toBe(EXIT.usage);
    expect(run.stderr).not.toContain('    at ');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe("error: unknown option '--spares'");
    expect(lines.slice(1)).toEqual(lines.length > 1 ? ['(Did you mean --spare?)'] : []);
  });

  it('an upset file with an upset after the mission\'s last cycle (named by its place in the file)', () => {
    // 5 s at 100 ms: cycles 0–49.
    const file = write('late-upsets.json', { upsets: [{ cycle: 10, target: 'memory', address: 8, bit: 1 }, { cycle: 50, target: 'memory', address: 8, bit: 1 }, { cycle: 3, target: 'memory', address: 8, bit: 1 }] });
    expectRefused(['--upset-file', file], EXIT.upsets, /late-upsets\.json: upsets\[1\]\.cycle: 50 is after the mission's last cycle, 49/);
  });
  it('a mission of no cycle', () => expectRefused(['--duration', '1e-300'], EXIT.config, /duration.*1e-300.*controlPeriod.*0\.1.*at least one cycle/));
  it('a mission of more cycles than are flown', () => {
    const file = write('fast-loop.json', { controlPeriod: 1e-9, clockHz: 1e12 });
    expectRefused(['--config', file], EXIT.config, /fast-loop\.json: duration \/ controlPeriod: .*5000000000 cycles.*at most 100000000/);
  });
  it('a clock too slow for one instruction per cycle', () =>
    expectRefused(['--clock-hz', '1.5'], EXIT.config, /clockHz: 1\.5 Hz × watchdogFraction 0\.4 × controlPeriod 0\.1 s gives a cycle budget of 0 instructions; at least 1 is needed/));
  it('a clock too fast for the cores to count a cycle\'s budget', () =>
    expectRefused(['--clock-hz', '1e12'], EXIT.config, /clockHz: 1000000000000 Hz .* 40000000000 instructions; at most 2147483647 are counted/));
  it('numeric options out of range, each named', () => {
    for (const [option, value, field] of [
      ['--seed', '-1', 'seed'],
      ['--upsets', '-1', 'upsets.count'],
      ['--upset-rate', '-1e-9', 'upsets.ratePerBitPerDay'],
      ['--upset-width', '0', 'upsets.width'],
      ['--checkpoint-interval', '0', 'checkpointInterval'],
      ['--clock-hz', '-5', 'clockHz'],
      ['--duration', '0', 'duration'],
    ]) {
      expectRefused([option, value], EXIT.config, new RegExp(`^lockstep: command line: ${field.replace('.', '\\.')}: `));
    }
  });

  it('an upset file that strikes beyond the bits of a global', () => {
    const fsw = write('counter.wasm', wat(COUNTER_FSW));
    const file = write('wide-global.json', { upsets: [{ cycle: 3, target: 'global', global: 0, bit: 40 }] });
    expectRefused(['--fsw', fsw, '--upset-file', file], EXIT.upsets, /upset 0 .*global/);
  });
});

/** Flight software with one i32 state global. */
const COUNTER_FSW = counterModuleText();

describe('other flight software', () => {
  it('flies a third-party module through the same checks', () => {
    const fsw = write('faulty.wasm', wat(faultyModuleText('trap')));
    const upsets = write('flag.json', { upsets: [{ cycle: 30, target: 'memory', core: 'B', address: 0, bit: 0 }] });
    const run = lockstep(['fly', '--fsw', fsw, '--duration', '10', '--upset-file', upsets, '--json', path('faulty.json'), '--quiet']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(EXIT.ok);
    const summary = JSON.parse(readFileSync(path('faulty.json'), 'utf8'));
    expect(summary).toMatchObject({ fsw, detections: { mismatch: 0, trap: 1, watchdog: 0 }, failovers: 1, missedDeadlines: 0, matchesFaultFree: true });
  });

  it('flies random multi-bit upsets wider than a 32-bit global', () => {
    const fsw = write('counter-random.wasm', wat(COUNTER_FSW));
    // Instant reintegration: 20 upsets in 100 cycles strike while a spare crosses the link by pre-copy
    // (64 KiB a round for a module without dirty tracking), rollbacks the gates rightly count (exit 18).
    const run = lockstep(['fly', '--fsw', fsw, '--duration', '10', '--upsets', '20', '--upset-targets', 'global', '--upset-width', '40', '--reintegration', 'instant', '--quiet']);
    expect(run.stderr).not.toContain('    at ');
    expect(run.status).toBe(EXIT.ok);
  });
});
