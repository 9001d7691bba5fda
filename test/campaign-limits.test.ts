// A campaign's memory planned before it starts: --jobs is capped at the machine's cores (said in one line
// on stderr, not an error); an experiment count the bookkeeping cannot hold, zero or negative, and a
// mission too long for the golden run's budget are refused with one line naming the value and the
// largest accepted, exit 2, before any file is created.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOLDEN_BUDGET_BYTES, maxExperiments, maxGoldenCycles, plannedGoldenBytes } from '../src/campaign/memory-plan.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

describe('lockstep campaign plans its memory before it starts', () => {
  let dir: string;
  const run = (args: readonly string[]) => {
    const result = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'campaign', ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    if (result.error) throw result.error;
    return result;
  };
  const small = ['--duration', '20', '--seed', '3', '--quiet'];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lockstep-limits-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('caps --jobs at the cores this machine offers, saying so in one line on stderr', () => {
    const cores = availableParallelism();
    const result = run([...small, '--experiments', '40', '--jobs', String(cores + 7), '--json', 'jobs.json']);
    expect(result.status).toBe(0);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`--jobs ${cores + 7}`);
    expect(lines[0]).toContain(`${cores}`);
    expect(lines[0]).toMatch(/availableParallelism/);
    expect(JSON.parse(readFileSync(join(dir, 'jobs.json'), 'utf8')).jobs).toBe(cores);
    // At or below the cores, nothing is said.
    const quiet = run([...small, '--experiments', '40', '--jobs', String(cores), '--json', 'quiet.json']);
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(JSON.parse(readFileSync(join(dir, 'quiet.json'), 'utf8')).jobs).toBe(cores);
  });

  /** The most experiments the small campaign accepts, as its refusal names it. */
  let most = 0;

  it('refuses an experiment count it cannot hold, zero or negative, before any file exists', () => {
    const huge = run([...small, '--experiments', '9007199254740991', '--out', 'huge.jsonl']);
    expect(huge.status).toBe(2);
    most = Number(/--experiments 9007199254740991: at most (\d+) experiments in this process/.exec(huge.stderr)?.[1]);
    // A short mission's golden run is small: most of the thread's budget is left for the bookkeeping.
    expect(most).toBeGreaterThan(400_000);
    const refusals: Array<[string[], RegExp]> = [
      [['--experiments', '9007199254740991'], new RegExp(`--experiments 9007199254740991: at most ${most} experiments in this process`)],
      [['--experiments', String(most + 1)], new RegExp(`--experiments ${most + 1}: at most ${most} experiments`)],
      [['--experiments', '0'], /--experiments takes a whole number of at least 1, not "0"/],
      [['--experiments=-5'], /--experiments takes a whole number of at least 1, not "-5"/],
      [['--margin', '0.0005'], new RegExp(`--margin 0.0005: needs \\d+ experiments, at most ${most} experiments`)],
    ];
    for (const [args, message] of refusals) {
      const out = `refused-${refusals.findIndex(([other]) => other === args)}.jsonl`;
      const result = run([...small, ...args, '--out', out, '--json', `${out}.json`]);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(result.stderr, args.join(' ')).toMatch(message);
      expect(result.stderr, args.join(' ')).not.toContain('    at ');
      expect(existsSync(join(dir, out)), args.join(' ')).toBe(false);
      expect(existsSync(join(dir, `${out}.json`)), args.join(' ')).toBe(false);
    }
  });

  it('a shard is planned by its own share of the experiments', () => {
    expect(most).toBeGreaterThan(0);
    const result = run([...small, '--experiments', String(2 * most + 2), '--shard', '0/2', '--out', 'shard.jsonl']);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`--experiments ${2 * most + 2}: shard 0/2 would run ${most + 1} experiments, at most ${most}`));
    expect(existsSync(join(dir, 'shard.jsonl'))).toBe(false);
  });

  it('the longer the mission, the fewer experiments: the golden run and the bookkeeping share a thread', () => {
    const shape = { snapshotInterval: 10, builds: 1, hooked: false, globals: 0, memoryBytes: 65_536 };
    const short = maxExperiments(plannedGoldenBytes({ ...shape, cycles: 200 }));
    const day = maxExperiments(plannedGoldenBytes({ ...shape, cycles: 864_000 }));
    expect(plannedGoldenBytes({ ...shape, cycles: 864_000 })).toBeLessThanOrEqual(GOLDEN_BUDGET_BYTES + 65_536);
    expect(day).toBeLessThan(short);
    expect(day).toBeGreaterThan(100_000);
  });

  it('refuses a mission too long for the golden run\'s memory, before flying it', () => {
    const longest = maxGoldenCycles({ snapshotInterval: 10, builds: 1, hooked: false, globals: 0 });
    // One day fits; the longest mission the schema accepts does not.
    expect(longest).toBeGreaterThanOrEqual(864_000);
    const result = run(['--duration', '10000000', '--quiet', '--out', 'long.jsonl']);
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(new RegExp(`--duration 10000000: .*at most ${Math.floor(longest / 10)} s`));
    expect(existsSync(join(dir, 'long.jsonl'))).toBe(false);
  });
});
