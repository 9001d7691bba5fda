// `lockstep tradestudy` as a user meets it: spawned on a campaign summary, its table and JSON (every
// configuration with its probability, interval and Markov value), and one line with the exit code of its
// kind for each mistake.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticCampaign } from './tradestudy-support.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const run = (args: readonly string[]) => {
  const result = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'tradestudy', ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  if (result.error) throw result.error;
  return result;
};
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-tradestudy-'));
  writeFileSync(join(dir, 'campaign.json'), JSON.stringify(syntheticCampaign()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lockstep tradestudy', () => {
  it('prints the table and writes JSON with every configuration, its interval and the Markov value inside it', () => {
    const result = run(['--campaign', 'campaign.json', '--preset', 'leo-cots', '--fit', '5000', '--trials', '4000', '--json', 'study.json']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^lockstep tradestudy — 5 years, 1e-7 upsets\/bit\/day \(leo-cots\), 5000 FIT per core/);
    for (const name of ['single', 'pair', 'pair+cold', 'pair+hot', 'tmr', 'tmr+spare']) expect(result.stdout).toContain(`    ${name} `);
    const study = JSON.parse(readFileSync(join(dir, 'study.json'), 'utf8'));
    expect(study.lockstep).toBe('tradestudy');
    expect(study.configurations.map((c: { name: string }) => c.name)).toEqual(['single', 'pair', 'pair+cold', 'pair+hot', 'tmr', 'tmr+spare']);
    for (const c of study.configurations) {
      expect(c.pMissionSuccess).toBeGreaterThan(0);
      expect(c.markov.value).toBeGreaterThanOrEqual(c.ci95[0]);
      expect(c.markov.value).toBeLessThanOrEqual(c.ci95[1]);
      expect(c.missedCyclesPerYear.ci95).toHaveLength(2);
      expect(c.degradedFraction.ci95).toHaveLength(2);
      expect(c.hardware.linkBytesPerDay).toBeNull();
      expect(typeof c.outcomes.full.measured).toBe('boolean');
    }
    expect(study.configurations.map((c: { hardware: { cores: number } }) => c.hardware.cores)).toEqual([1, 2, 4, 4, 3, 4]);
    expect(study.configurations.find((c: { name: string }) => c.name === 'tmr').outcomes.full.measured).toBe(false);
  });

  it('--json with no file writes the JSON to standard output and the table to standard error', () => {
    const result = run(['--campaign', 'campaign.json', '--upset-rate', '1e-9', '--configs', 'pair', '--trials', '500', '--no-markov', '--json']);
    expect(result.status).toBe(0);
    const study = JSON.parse(result.stdout);
    expect(study.configurations).toHaveLength(1);
    expect(study.configurations[0].markov).toBeNull();
    expect(result.stderr).toMatch(/^lockstep tradestudy — 5 years, 1e-9 upsets\/bit\/day/);
  });

  it('answers each mistake with one line naming the option, file or field, and its exit code', () => {
    writeFileSync(join(dir, 'broken.json'), JSON.stringify({ ...syntheticCampaign(), faultSpace: undefined }));
    const cases: Array<[string[], number, RegExp]> = [
      [['--campaign', 'campaign.json', '--preset', 'mars'], 2, /--preset: unknown environment "mars"/],
      [['--campaign', 'campaign.json', '--upset-rate', '-1e-7'], 2, /--upset-rate must be from 0 to 1/],
      [['--campaign', 'campaign.json', '--preset', 'leo-cots', '--configs', 'pair,quad'], 2, /--configs: unknown configuration "quad"/],
      [['--campaign', 'missing.json', '--preset', 'leo-cots'], 3, /missing\.json: cannot be read \(ENOENT\)/],
      [['--campaign', 'broken.json', '--preset', 'leo-cots'], 3, /broken\.json: faultSpace: missing or not an object/],
    ];
    for (const [args, code, message] of cases) {
      const result = run(args);
      expect(result.status, args.join(' ')).toBe(code);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(result.stderr).toMatch(message);
    }
  });
});
