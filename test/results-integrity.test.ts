// Results are evidence: a hostile user's ways of losing or miscounting them, each refused or survived.
// A full disk (ulimit -f, never the real disk), two runs on one file (two real processes), a killed
// owner, repeated and foreign rows, one path for two outputs, FIFOs, symlinks and standard output,
// outputs checked before the work, half-written headers, incomplete merges and mixed shards; and a
// property over kill points, repeated rows and shard mixes that always ends in the exact uninterrupted
// table or a clear refusal.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/cli/errors.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const BIN = join(ROOT, 'bin/lockstep.js');
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-integrity-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const path = (name: string) => join(dir, name);
const lockstep = (args: string[], options: { cwd?: string; timeout?: number } = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd: options.cwd ?? dir, encoding: 'utf8', timeout: options.timeout ?? 120_000 });
const shell = (script: string) => spawnSync('bash', ['-c', script], { cwd: dir, encoding: 'utf8', timeout: 120_000 });

/** A small campaign: 60 s of the reference mission. */
const CAMPAIGN = ['campaign', '--duration', '60', '--seed', '7', '--jobs', '1', '--quiet'];
const rows = (file: string) => readFileSync(path(file), 'utf8').split('\n').slice(1).filter((line) => line !== '');

function expectOneLine(result: { stderr: string }, pattern: RegExp): void {
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

/** The table of an uninterrupted run of CAMPAIGN with `experiments`, to compare others against. */
const reference = new Map<number, unknown>();
function referenceTable(experiments: number): unknown {
  if (!reference.has(experiments)) {
    const json = `reference-${experiments}.json`;
    const run = lockstep([...CAMPAIGN, '--experiments', String(experiments), '--json', json]);
    expect(run.status, run.stderr).toBe(0);
    reference.set(experiments, JSON.parse(readFileSync(path(json), 'utf8')).configs);
  }
  return reference.get(experiments);
}

describe('a full disk', () => {
  it('a write the file-size limit cuts short is reported (exit 7, one line), the file keeps whole rows, and --resume completes the exact table', () => {
    const run = shell(`ulimit -f 1000; exec "${process.execPath}" "${BIN}" ${CAMPAIGN.join(' ')} --experiments 6000 --out full.jsonl --json full.json`);
    expect(run.status).toBe(EXIT.output);
    expectOneLine(run, /full\.jsonl: cannot be written \(the file would exceed the size limit \(EFBIG/);
    expect(existsSync(path('full.json'))).toBe(false);
    const kept = readFileSync(path('full.jsonl'), 'utf8');
    expect(kept.length).toBeLessThanOrEqual(1000 * 1024);
    const resumed = lockstep([...CAMPAIGN, '--experiments', '6000', '--out', 'full.jsonl', '--json', 'full.json', '--resume']);
    expect(resumed.status, resumed.stderr).toBe(0);
    const report = JSON.parse(readFileSync(path('full.json'), 'utf8'));
    expect(report.experiments).toBe(6000);
    expect(report.complete).toBe(true);
    expect(rows('full.jsonl')).toHaveLength(6000);
    expect(report.configs).toEqual(referenceTable(6000));
  });

  it('fly reports a telemetry file cut short by the limit, and leaves neither output', () => {
    const run = shell(`ulimit -f 200; exec "${process.execPath}" "${BIN}" fly --duration 600 --upsets 0 --quiet --telemetry t.csv --json t.json`);
    expect(run.status).toBe(EXIT.output);
    expectOneLine(run, /t\.csv: cannot be written \(the file would exceed the size limit/);
    expect(readdirSync(dir).filter((name) => name.startsWith('t.'))).toEqual([]);
  });
});

describe('two runs on one file', () => {
  it('a second run is refused while the first writes, naming it; the first finishes alone; a killed owner\'s lock is taken over', async () => {
    const first = spawn(process.execPath, [BIN, ...CAMPAIGN, '--experiments', '400000', '--out', 'shared.jsonl'], { cwd: dir, stdio: 'ignore' });
    try {
      // Wait until the first run has written rows (it holds the lock from before its golden run).
      for (let i = 0; i < 200 && !(existsSync(path('shared.jsonl')) && rows('shared.jsonl').length > 0); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(rows('shared.jsonl').length).toBeGreaterThan(0);
      for (const args of [['--resume'], ['--force'], []]) {
        const second = lockstep([...CAMPAIGN, '--experiments', '400000', '--out', 'shared.jsonl', ...args]);
        expect(second.status, args.join(' ')).toBe(EXIT.output);
        expect(second.stderr).toMatch(args.length === 0 ? /exists already/ : new RegExp(`in use by another lockstep run \\(process ${first.pid}`));
      }
    } finally {
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
    }
    // Killed: its lock is still there, and taken over at once since its process is gone.
    expect(existsSync(path('shared.jsonl.lock'))).toBe(true);
    const taken = lockstep([...CAMPAIGN, '--experiments', '400000', '--out', 'shared.jsonl', '--resume', '--until-margin', '0.5']);
    expect(taken.status, taken.stderr).toBe(0);
    expect(existsSync(path('shared.jsonl.lock'))).toBe(false);
  });
});

describe('rows that cannot belong, and rows repeated', () => {
  let header: string;
  let body: string[];
  beforeAll(() => {
    const run = lockstep([...CAMPAIGN, '--experiments', '1000', '--out', 'good.jsonl']);
    expect(run.status, run.stderr).toBe(0);
    const lines = readFileSync(path('good.jsonl'), 'utf8').trim().split('\n');
    header = lines[0];
    body = lines.slice(1);
  });
  const write = (name: string, lines: string[]) => writeFileSync(path(name), `${[header, ...lines].join('\n')}\n`);

  it('a file holding every row twice resumes to 1,000 experiments, not 2,000, with the same table; merge counts them once too', () => {
    write('twice.jsonl', [...body, ...body]);
    const resumed = lockstep([...CAMPAIGN, '--experiments', '1000', '--out', 'twice.jsonl', '--resume', '--json', 'twice.json']);
    expect(resumed.status, resumed.stderr).toBe(0);
    const report = JSON.parse(readFileSync(path('twice.json'), 'utf8'));
    expect(report.experiments).toBe(1000);
    expect(report.configs).toEqual(referenceTable(1000));
    expect(rows('twice.jsonl')).toHaveLength(1000);
    write('twice-again.jsonl', [...body, ...body.slice(0, 10)]);
    const merged = lockstep(['merge', 'twice-again.jsonl', 'good.jsonl', '--json', 'merged-twice.json', '--quiet']);
    expect(merged.status, merged.stderr).toBe(0);
    expect(JSON.parse(readFileSync(path('merged-twice.json'), 'utf8')).experiments).toBe(1000);
  });

  it('a row repeated with another result refuses the file, naming both places', () => {
    const changed = JSON.parse(body[5]);
    const other = JSON.stringify({ ...changed, simulated: changed.simulated + 1 });
    write('conflict.jsonl', [...body, other]);
    const resumed = lockstep([...CAMPAIGN, '--experiments', '1000', '--out', 'conflict.jsonl', '--resume']);
    expect(resumed.status).toBe(EXIT.results);
    expectOneLine(resumed, new RegExp(`conflict\\.jsonl: line 1002: experiment ${changed.index} has another result than at .*line 7`));
  });

  const foreign: Array<[string, (row: Record<string, unknown>) => Record<string, unknown>, RegExp]> = [
    ['a negative index', (row) => ({ ...row, index: -5 }), /holds experiment -5, outside the campaign's 1000/],
    ['an index past the campaign', (row) => ({ ...row, index: 1000 }), /holds experiment 1000, outside the campaign's 1000/],
    ['a target the campaign does not strike', (row) => ({ ...row, target: 'result' }), /holds a result experiment; the campaign strikes memory, checkpoint/],
    ['a configuration the campaign does not judge', (row) => ({ ...row, outcomes: { ...(row.outcomes as object), swift: { outcome: 'masked' } } }), /configuration "swift", which the campaign does not judge/],
  ];
  for (const [what, change, message] of foreign) {
    it(`a row with ${what} refuses the file in resume and merge, naming the line`, () => {
      const name = `foreign-${what.replace(/\W+/g, '-')}.jsonl`;
      write(name, [...body.slice(0, 3), JSON.stringify(change(JSON.parse(body[3]))), ...body.slice(4)]);
      const before = readFileSync(path(name), 'utf8');
      for (const args of [[...CAMPAIGN, '--experiments', '1000', '--out', name, '--resume'], ['merge', name]]) {
        const run = lockstep(args);
        expect(run.status).toBe(EXIT.results);
        expectOneLine(run, new RegExp(`${name.replace('.', '\\.')}: line 5 .*`));
        expect(run.stderr).toMatch(message);
      }
      expect(readFileSync(path(name), 'utf8')).toBe(before);
    });
  }
});

describe('output paths', () => {
  it('one path for two outputs is refused before anything runs or is written', () => {
    for (const args of [
      [...CAMPAIGN, '--experiments', '100', '--out', 'same', '--json', 'same'],
      ['fly', '--duration', '5', '--json', 'same', '--telemetry', 'same'],
      ['fly', '--duration', '5', '--json', 'same', '--telemetry', './same'],
      ['harden', join(ROOT, 'build/adcs.wasm'), '-o', 'same', '--mode', 'swift', '--json', 'same'],
    ]) {
      const run = lockstep(args);
      expect(run.status, args.join(' ')).toBe(EXIT.output);
      expectOneLine(run, /name the same file \(.*same\): give each output its own path/);
      expect(existsSync(path('same'))).toBe(false);
    }
  });

  it('every output is checked before the first cycle: a missing folder fails at once, and a failed run leaves no other output', () => {
    const started = Date.now();
    const campaign = lockstep([...CAMPAIGN, '--duration', '3600', '--experiments', '40000', '--json', 'no-such-folder/x.json', '--out', 'x.jsonl']);
    expect(campaign.status).toBe(EXIT.output);
    expectOneLine(campaign, /no-such-folder\/x\.json: cannot be written \(ENOENT\)/);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(existsSync(path('x.jsonl'))).toBe(false);
    const fly = lockstep(['fly', '--duration', '5', '--json', 'o.json', '--telemetry', '/proc/x.csv']);
    expect(fly.status).toBe(EXIT.output);
    expectOneLine(fly, /\/proc\/x\.csv: cannot be written/);
    expect(existsSync(path('o.json'))).toBe(false);
  });

  it('a FIFO is written as the flight produces it and stays a FIFO; a symlink is followed, not replaced', () => {
    expect(shell('mkfifo tele.fifo').status).toBe(0);
    const reader = shell(`cat tele.fifo > tele-read.csv & "${process.execPath}" "${BIN}" fly --duration 20 --upsets 0 --quiet --telemetry tele.fifo; wait`);
    expect(reader.status, reader.stderr).toBe(0);
    expect(lstatSync(path('tele.fifo')).isFIFO()).toBe(true);
    const csv = readFileSync(path('tele-read.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(201);
    expect(csv[0]).toMatch(/^cycle,time_s,pointing_error_deg/);

    mkdirSync(path('real'));
    symlinkSync(join('real', 'target.json'), path('link.json'));
    const linked = lockstep(['fly', '--duration', '5', '--upsets', '0', '--quiet', '--json', 'link.json']);
    expect(linked.status, linked.stderr).toBe(0);
    expect(lstatSync(path('link.json')).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(path('real/target.json'), 'utf8')).cycles).toBe(50);
  });

  it('- and /dev/stdout stream the JSON to standard output, which stays what it was; the text summary goes to stderr', () => {
    const devStdout = lstatSync('/dev/stdout');
    for (const target of ['-', '/dev/stdout']) {
      const run = lockstep(['fly', '--duration', '5', '--upsets', '0', '--json', target]);
      expect(run.status, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout).cycles).toBe(50);
      expect(run.stderr).toMatch(/lockstep fly/);
    }
    expect(lstatSync('/dev/stdout').isSymbolicLink()).toBe(devStdout.isSymbolicLink());
    expect(lstatSync('/dev/stdout').mode).toBe(devStdout.mode);
  });

  it('messages point the right way: --out a directory, merge --out an existing file', () => {
    mkdirSync(path('a-folder'));
    const folder = lockstep([...CAMPAIGN, '--experiments', '100', '--out', 'a-folder']);
    expect(folder.status).toBe(EXIT.output);
    expectOneLine(folder, /a-folder: is a directory/);
    writeFileSync(path('taken.jsonl'), 'x\n');
    const run = lockstep([...CAMPAIGN, '--experiments', '200', '--out', 'merge-me.jsonl']);
    expect(run.status).toBe(0);
    const merge = lockstep(['merge', 'merge-me.jsonl', '--out', 'taken.jsonl']);
    expect(merge.status).toBe(EXIT.output);
    expectOneLine(merge, /taken\.jsonl: exists already \(--force replaces it\)/);
    expect(merge.stderr).not.toMatch(/--resume/);
  });
});

describe('resume and merge', () => {
  it('a file whose header a kill cut short (or left empty) is started over by --resume', () => {
    const run = lockstep([...CAMPAIGN, '--experiments', '300', '--out', 'whole.jsonl']);
    expect(run.status).toBe(0);
    const headerLine = readFileSync(path('whole.jsonl'), 'utf8').split('\n')[0];
    for (const start of ['', headerLine.slice(0, 40)]) {
      writeFileSync(path('cut.jsonl'), start);
      const resumed = lockstep([...CAMPAIGN, '--experiments', '300', '--out', 'cut.jsonl', '--resume', '--json', 'cut.json']);
      expect(resumed.status, resumed.stderr).toBe(0);
      expect(JSON.parse(readFileSync(path('cut.json'), 'utf8')).experiments).toBe(300);
    }
  });

  it('resuming another shard\'s file, or with fewer experiments than it plans, is refused and leaves it untouched', () => {
    const run = lockstep([...CAMPAIGN, '--experiments', '600', '--shard', '0/3', '--out', 'shard0.jsonl']);
    expect(run.status).toBe(0);
    const before = readFileSync(path('shard0.jsonl'), 'utf8');
    const other = lockstep([...CAMPAIGN, '--experiments', '600', '--shard', '1/3', '--out', 'shard0.jsonl', '--resume']);
    expect(other.status).toBe(EXIT.results);
    expectOneLine(other, /holds shard 0\/3, not 1\/3/);
    const fewer = lockstep([...CAMPAIGN, '--experiments', '300', '--shard', '0/3', '--out', 'shard0.jsonl', '--resume']);
    expect(fewer.status).toBe(EXIT.results);
    expectOneLine(fewer, /plans 600 experiments; resume it with --experiments 600/);
    expect(readFileSync(path('shard0.jsonl'), 'utf8')).toBe(before);
  });

  it('merge of incomplete shards says what is missing and exits 9; --allow-incomplete writes the report a whole run has, marked incomplete', () => {
    for (const shard of ['0/3', '1/3']) expect(lockstep([...CAMPAIGN, '--experiments', '900', '--shard', shard, '--out', `s${shard[0]}.jsonl`]).status).toBe(0);
    const partial = lockstep(['merge', 's0.jsonl', 's1.jsonl', '--json', 'partial.json']);
    expect(partial.status).toBe(EXIT.incomplete);
    expectOneLine(partial, /300 of the campaign's 900 experiments are missing from the files \(2, 5, 8, .*shards 0\/3, 1\/3/);
    expect(existsSync(path('partial.json'))).toBe(false);
    const allowed = lockstep(['merge', 's0.jsonl', 's1.jsonl', '--json', 'partial.json', '--allow-incomplete', '--quiet']);
    expect(allowed.status, allowed.stderr).toBe(0);
    const report = JSON.parse(readFileSync(path('partial.json'), 'utf8'));
    expect(report).toMatchObject({ experiments: 600, plannedExperiments: 900, complete: false, missing: { count: 300 } });
    for (const field of ['faultSpace', 'mwtf', 'meanSimulatedCycles']) expect(report).toHaveProperty(field);
    expect(lockstep([...CAMPAIGN, '--experiments', '900', '--shard', '2/3', '--out', 's2.jsonl']).status).toBe(0);
    const whole = lockstep(['merge', 's0.jsonl', 's1.jsonl', 's2.jsonl', '--json', 'whole.json', '--quiet']);
    expect(whole.status, whole.stderr).toBe(0);
    const merged = JSON.parse(readFileSync(path('whole.json'), 'utf8'));
    expect(merged.complete).toBe(true);
    expect(merged.configs).toEqual(referenceTable(900));
  });

  it('merge says when the missing experiments are the tail', () => {
    const run = lockstep([...CAMPAIGN, '--experiments', '500', '--out', 'tail.jsonl']);
    expect(run.status).toBe(0);
    const lines = readFileSync(path('tail.jsonl'), 'utf8').trim().split('\n');
    writeFileSync(path('tail-cut.jsonl'), `${lines.slice(0, 451).join('\n')}\n`);
    const merge = lockstep(['merge', 'tail-cut.jsonl']);
    expect(merge.status).toBe(EXIT.incomplete);
    expectOneLine(merge, /50 of the campaign's 500 experiments are missing from the files \(450–499\)/);
  });
});

describe('property: kill points, repeated rows and shard mixes', () => {
  it('always end in the exact uninterrupted table, or a clear refusal', async () => {
    const experiments = 900;
    const expected = referenceTable(experiments);
    let trial = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.integer({ min: 200, max: 2500 }), { minLength: 0, maxLength: 2 }),
        fc.boolean(),
        fc.boolean(),
        async (shards, killAfterMs, repeatRows, mixShards) => {
          const work = join(dir, `trial-${trial++}`);
          mkdirSync(work);
          const files: string[] = [];
          for (let shard = 0; shard < shards; shard++) {
            const file = `p${shard}.jsonl`;
            const args = [BIN, ...CAMPAIGN, '--experiments', String(experiments), '--shard', `${shard}/${shards}`, '--out', file, '--resume'];
            for (const delay of killAfterMs) {
              const child = spawn(process.execPath, args, { cwd: work, stdio: 'ignore' });
              await new Promise((resolve) => setTimeout(resolve, delay));
              child.kill('SIGKILL');
              await new Promise((resolve) => child.once('exit', resolve));
            }
            const last = spawnSync(process.execPath, args, { cwd: work, encoding: 'utf8', timeout: 120_000 });
            expect(last.status, last.stderr).toBe(0);
            files.push(file);
          }
          if (repeatRows) {
            const lines = readFileSync(join(work, files[0]), 'utf8').trim().split('\n');
            writeFileSync(join(work, files[0]), `${[...lines, ...lines.slice(1, 50)].join('\n')}\n`);
          }
          if (mixShards && shards > 1) {
            // A row of shard 1 in shard 0's file: the file must be refused, not counted.
            const foreignRow = readFileSync(join(work, files[1]), 'utf8').trim().split('\n')[1];
            writeFileSync(join(work, files[0]), `${readFileSync(join(work, files[0]), 'utf8')}${foreignRow}\n`);
          }
          const merged = spawnSync(process.execPath, [BIN, 'merge', ...files, '--json', 'merged.json', '--quiet'], { cwd: work, encoding: 'utf8', timeout: 120_000 });
          if (merged.status === 0) {
            expect(mixShards && shards > 1).toBe(false);
            expect(JSON.parse(readFileSync(join(work, 'merged.json'), 'utf8')).configs).toEqual(expected);
          } else {
            expect(mixShards && shards > 1).toBe(true);
            expect(merged.status).toBe(EXIT.results);
            expectOneLine(merged, /line \d+ holds experiment \d+, which is not in shard 0\//);
          }
        },
      ),
      { numRuns: 4 },
    );
    // Each trial spawns several campaigns: minutes on a loaded two-core machine.
  }, 400_000);
});
