// lockstep hil: the flight computer as NASA 42's flight software. With the real 42 (built from
// ../shared/nasa42; skipped, saying why, without it or gcc): the acid test — 50 upsets and none leave 42's
// truth byte-identical and the released commands equal, with failovers, pointing met from 42's truth — and
// real time. With a fake 42 written from the protocol: every bad peer gets one line, its own exit code, and
// the summary of the cycles flown, marked incomplete.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/cli/errors.js';
import { DEFAULT_NASA42_SOURCE } from '../src/hil/nasa42-build.js';
import { FakeNasa42, type FakeOptions } from './fake-nasa42.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const BIN = join(ROOT, 'bin/lockstep.js');
const HOLD = join(ROOT, 'missions/hil-hold.json');
const REFERENCE_SIZES = { Nb: 1, Nwhl: 3, Ngyro: 3, Nst: 1 };
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-hil-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs lockstep without blocking this process's event loop (a fake 42 answers from it). */
function lockstep(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

const json = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8'));

function whyNoReal42(): string | null {
  if (!existsSync(DEFAULT_NASA42_SOURCE)) return `${DEFAULT_NASA42_SOURCE} is absent`;
  for (const tool of ['make', 'gcc']) if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0) return `${tool} is not installed`;
  return null;
}
const noReal42 = whyNoReal42();
if (noReal42 !== null) console.warn(`test/hil.test.ts: the tests with the real 42 are skipped: ${noReal42}`);

/** Processes whose command line names this test's folder: a 42 left running would be one. */
function leftRunning(): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).stdout;
  return ps.split('\n').filter((line) => line.includes('lockstep-hil-') && line.includes('/42 '));
}

describe.skipIf(noReal42 !== null)(`lockstep hil with the real 42${noReal42 ? ` (skipped: ${noReal42})` : ''}`, () => {
  it('the acid test: 50 upsets and none give byte-identical 42 truth and equal commands, with failovers, pointing met from 42\'s truth', async () => {
    const faulty = await lockstep(['hil', '--config', HOLD, '--json', 'faulty.json', '--quiet']);
    expect(faulty.status, faulty.stderr).toBe(0);
    const clean = await lockstep(['hil', '--config', HOLD, '--upsets', '0', '--json', 'clean.json', '--quiet']);
    expect(clean.status, clean.stderr).toBe(0);
    const [a, b] = [json('faulty.json'), json('clean.json')];
    for (const field of ['cycles', 'upsetsInjected', 'failovers', 'missedDeadlines', 'detections', 'undetectedDivergences', 'pointing', 'commandDigest', 'truthDigest']) expect(a).toHaveProperty(field);
    expect(a).toMatchObject({ simulator: '42', complete: true, upsetsInjected: 50, missedDeadlines: 0, undetectedDivergences: 0 });
    expect(a.failovers).toBeGreaterThanOrEqual(1);
    expect(b.failovers).toBe(0);
    expect(a.truthDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(a.truthDigest).toBe(b.truthDigest);
    expect(a.commandDigest).toBe(b.commandDigest);
    expect(a.pointing).toMatchObject({ requirementDeg: 0.05, met: true });
    expect(b.pointing.met).toBe(true);
    expect(leftRunning()).toEqual([]);
  });

  it('--realtime paces 42 on the wall clock with no overrun; the commands are those of a run at full speed', async () => {
    const paced = await lockstep(['hil', '--duration', '6', '--upsets', '10', '--realtime', '--json', 'paced.json', '--quiet']);
    expect(paced.status, paced.stderr).toBe(0);
    const fast = await lockstep(['hil', '--duration', '6', '--upsets', '10', '--json', 'fast.json', '--quiet']);
    expect(fast.status, fast.stderr).toBe(0);
    const [p, f] = [json('paced.json'), json('fast.json')];
    expect(p.realtime).toMatchObject({ factor: 1, periodMs: 100, overruns: 0 });
    expect(p.commandDigest).toBe(f.commandDigest);
    expect(p.truthDigest).toBe(f.truthDigest);
  });

  it('a mapping naming a field 42 does not send is refused, naming the mission field; 42 is stopped', async () => {
    writeFileSync(join(dir, 'bad-map.json'), JSON.stringify({ duration: 5, hil: { inputs: [{ channel: 'gyro_x', field: 'Gyro[3].Rate' }] } }));
    const run = await lockstep(['hil', '--config', 'bad-map.json', '--json', 'bad-map-out.json']);
    expect(run.status).toBe(EXIT.config);
    expect(run.stderr).toMatch(/^lockstep: mission: hil\.inputs\[0\]\.field: Gyro\[3\]\.Rate: 42 announced 3 Gyro \(Gyro\[0\] to Gyro\[2\]\)\n$/);
    expect(json('bad-map-out.json')).toMatchObject({ complete: false, cycles: 0 });
    expect(leftRunning()).toEqual([]);
  });
});

describe('lockstep hil against a fake 42: bad peers', () => {
  async function withFake(options: FakeOptions, args: string[] = []) {
    const fake = await FakeNasa42.start({ sizes: REFERENCE_SIZES, dt: 0.1, steps: 60, ...options });
    try {
      return await lockstep(['hil', '--connect', String(fake.port), '--duration', '5', '--upsets', '0', ...args]);
    } finally {
      await fake.close();
    }
  }

  it('a whole run against the fake: every step answered, complete, no truth to judge from', async () => {
    const run = await withFake({ steps: 51 }, ['--json', 'fake-whole.json']);
    expect(run.status, run.stderr).toBe(0);
    expect(json('fake-whole.json')).toMatchObject({ simulator: '42', complete: true, cycles: 51, truthDigest: null });
  });

  const cases: Array<[string, FakeOptions | null, number, RegExp]> = [
    ['connection refused', null, EXIT.peerRefused, /nothing accepted|refused/i],
    ['42 dying mid-run', { misbehave: { kind: 'die', step: 20, bytes: 40 } }, EXIT.peerClosed, /closed|reset/i],
    ['a short read', { misbehave: { kind: 'stall', step: 10, bytes: 16 } }, EXIT.peerShort, /sent 16 of the 153 bytes of the inputs of step 10/],
    ['absurd array sizes', { misbehave: { kind: 'sizes', count: 'Ngyro', value: 1_000_000 } }, EXIT.peerAbsurd, /Ngyro = 1000000/],
    ['absurd buffer lengths', { misbehave: { kind: 'lengths', name: 'AcInBufLen', value: 2 ** 40 } }, EXIT.peerAbsurd, /AcInBufLen/],
  ];
  for (const [what, misbehave, code, message] of cases) {
    it(`${what}: one line, exit ${code}, the summary of the cycles flown written and marked incomplete`, async () => {
      const out = `bad-${what.replace(/\W+/g, '-')}.json`;
      let run;
      if (misbehave === null) {
        // A port nothing listens on: a fake started and closed at once.
        const fake = await FakeNasa42.start({ sizes: REFERENCE_SIZES, dt: 0.1 });
        const port = fake.port;
        await fake.close();
        run = await lockstep(['hil', '--connect', String(port), '--duration', '5', '--upsets', '0', '--json', out]);
      } else run = await withFake(misbehave, ['--json', out]);
      expect(run.status, run.stderr).toBe(code);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      const summary = json(out);
      expect(summary.complete).toBe(false);
      expect(summary.failure).toMatch(message);
      if (what === '42 dying mid-run') expect(summary.cycles).toBe(20);
    });
  }
});
