// The CI gates as a pipeline meets them: `fly` and `campaign` spawned as a user would, each gate passing
// and failing, with its documented exit code (the most severe when several fail), the requirement IDs of
// the mission file carried into --json and --junit, and the JUnit file valid against Jenkins' JUnit schema
// (test/fixtures/jenkins-junit-4.xsd) by xmllint (Debian's libxml2-utils; .ci/run installs it).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faultyModuleText, wat } from './support.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const XSD = join(ROOT, 'test', 'fixtures', 'jenkins-junit-4.xsd');
// As documented in docs/cli.md (exit codes) and kept in src/cli/errors.ts.
const EXIT = { ok: 0, usage: 2, config: 3, undetectedDivergence: 16, pointing: 17, missedDeadlines: 18, commandStream: 19, silentFailures: 20 } as const;

let dir: string;
const path = (name: string) => join(dir, name);
const write = (name: string, contents: unknown) => {
  writeFileSync(path(name), typeof contents === 'string' || contents instanceof Uint8Array ? contents : JSON.stringify(contents));
  return path(name);
};
const json = (name: string) => JSON.parse(readFileSync(path(name), 'utf8'));

function lockstep(args: readonly string[]) {
  const result = spawnSync(process.execPath, ['bin/lockstep.js', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const xmllint = spawnSync('xmllint', ['--version'], { encoding: 'utf8' });
const noValidator = xmllint.error || xmllint.status !== 0 ? 'xmllint is not installed (Debian: apt-get install libxml2-utils; .ci/run installs it)' : null;

function expectValidJunit(file: string): void {
  if (noValidator) {
    console.warn(`JUnit schema check skipped: ${noValidator}`);
    return;
  }
  const check = spawnSync('xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8' });
  expect(check.stderr).toContain('validates');
  expect(check.status, check.stderr).toBe(0);
}

/** Test cases of a JUnit file: name → failure, skipped or passed. */
function junitCases(file: string): Record<string, 'failure' | 'skipped' | 'passed'> {
  const xml = readFileSync(file, 'utf8');
  const cases: Record<string, 'failure' | 'skipped' | 'passed'> = {};
  for (const match of xml.matchAll(/<testcase name="([^"]*)"[^>]*>([\s\S]*?)<\/testcase>/g)) {
    cases[match[1]] = match[2].includes('<failure') ? 'failure' : match[2].includes('<skipped') ? 'skipped' : 'passed';
  }
  return cases;
}

let faulty: string;
let trapAt30: string;
let gainUpset: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-gates-'));
  // A module that traps once the byte at address 0 is set: one scripted upset, one detection, one failover.
  faulty = write('faulty.wasm', wat(faultyModuleText('trap')));
  trapAt30 = write('trap-at-30.json', { upsets: [{ cycle: 30, target: 'memory', core: 'B', address: 0, bit: 0 }] });
  // The gain's exponent flipped on the lone core: every later torque wrong, and nothing compares it.
  gainUpset = write('gain.json', { upsets: [{ cycle: 10, target: 'memory', core: 'A', address: 15, bit: 5 }] });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fly gates', () => {
  it('all met: exit 0, every requirement a passing JUnit test case carrying its mission-file ID', () => {
    const mission = write('ids.json', {
      duration: 3,
      pointing: { settleTime: 1, requirementDeg: 180 },
      requirements: { pointing: { id: 'ADCS-012' }, commandStream: { id: 'FDIR-3' }, undetectedDivergence: { id: 'FDIR-<&"4">' } },
    });
    const run = lockstep(['fly', '--config', mission, '--upsets', '3', '--json', path('ids-out.json'), '--junit', path('ids.xml')]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(EXIT.ok);
    expect(run.stdout).toContain('requirements         all 4 met');
    const summary = json('ids-out.json');
    expect(summary.requirements.map((verdict: { requirement: string; id: string | null; status: string }) => [verdict.requirement, verdict.id, verdict.status])).toEqual([
      ['undetectedDivergence', 'FDIR-<&"4">', 'met'],
      ['pointing', 'ADCS-012', 'met'],
      ['missedDeadlines', null, 'met'],
      ['commandStream', 'FDIR-3', 'met'],
    ]);
    expectValidJunit(path('ids.xml'));
    expect(junitCases(path('ids.xml'))).toEqual({
      'FDIR-&lt;&amp;&quot;4&quot;&gt; undetectedDivergence': 'passed',
      'ADCS-012 pointing': 'passed',
      missedDeadlines: 'passed',
      'FDIR-3 commandStream': 'passed',
    });
  });

  it('pointing: not met exits 17 and still writes its outputs; a mission ending before settling is not evaluated (skipped), exit 0', () => {
    const tight = write('tight.json', { duration: 3, pointing: { settleTime: 1, requirementDeg: 1e-9 }, requirements: { pointing: { id: 'ADCS-1' } } });
    const run = lockstep(['fly', '--config', tight, '--upsets', '0', '--json', path('tight-out.json'), '--junit', path('tight.xml'), '--quiet']);
    expect(run.status).toBe(EXIT.pointing);
    expect(run.stderr).toMatch(/^lockstep: requirement not met: ADCS-1 pointing: max [\d.e-]+° after 1 s exceeds the 1e-9° required\n$/);
    expect(json('tight-out.json').pointing).toMatchObject({ met: false, evaluated: true });
    expectValidJunit(path('tight.xml'));
    expect(junitCases(path('tight.xml'))['ADCS-1 pointing']).toBe('failure');

    const short = lockstep(['fly', '--duration', '3', '--upsets', '0', '--junit', path('short.xml'), '--quiet']);
    expect(short.status).toBe(EXIT.ok);
    expect(junitCases(path('short.xml')).pointing).toBe('skipped');
    expectValidJunit(path('short.xml'));
  });

  it('command stream: a lost cycle (no spare) exits 19; the hot spare that re-executes it exits 0', () => {
    const lost = lockstep(['fly', '--fsw', faulty, '--duration', '5', '--upset-file', trapAt30, '--spare', 'none', '--json', path('lost.json'), '--quiet']);
    expect(lost.status).toBe(EXIT.commandStream);
    expect(lost.stderr).toMatch(/^lockstep: requirement not met: commandStream: [0-9a-f]{16}… differs from the fault-free run's [0-9a-f]{16}…\n$/);
    expect(json('lost.json')).toMatchObject({ matchesFaultFree: false, missedDeadlines: 1 });
    const kept = lockstep(['fly', '--fsw', faulty, '--duration', '5', '--upset-file', trapAt30, '--spare', 'hot', '--quiet']);
    expect(kept.stderr).toBe('');
    expect(kept.status).toBe(EXIT.ok);
  });

  it('missed deadlines: a cold spare over --max-missed exits 18, the most severe of two failures; within it, and the stream waived, exit 0', () => {
    const over = lockstep(['fly', '--fsw', faulty, '--duration', '5', '--upset-file', trapAt30, '--spare', 'cold', '--max-missed', '0', '--junit', path('cold.xml'), '--quiet']);
    expect(over.status).toBe(EXIT.missedDeadlines);
    expect(over.stderr).toMatch(/^lockstep: requirements not met: missedDeadlines: \d+ missed deadlines, at most 0 allowed; commandStream: /);
    expect(junitCases(path('cold.xml'))).toMatchObject({ missedDeadlines: 'failure', commandStream: 'failure' });
    expectValidJunit(path('cold.xml'));

    // Without a hot spare there is no limit by default: a lost cycle is what a cold spare costs.
    const noLimit = lockstep(['fly', '--fsw', faulty, '--duration', '5', '--upset-file', trapAt30, '--spare', 'cold', '--waive', 'commandStream', '--json', path('cold.json'), '--junit', path('waived.xml'), '--quiet']);
    expect(noLimit.stderr).toBe('');
    expect(noLimit.status).toBe(EXIT.ok);
    const summary = json('cold.json');
    expect(summary.missedDeadlines).toBeGreaterThan(0);
    expect(summary.requirements.find((verdict: { requirement: string }) => verdict.requirement === 'commandStream').status).toBe('waived');
    expect(junitCases(path('waived.xml'))).toMatchObject({ missedDeadlines: 'passed', commandStream: 'skipped' });
    expectValidJunit(path('waived.xml'));

    const within = lockstep(['fly', '--fsw', faulty, '--duration', '5', '--upset-file', trapAt30, '--spare', 'cold', '--max-missed', '100', '--waive', 'commandStream', '--quiet']);
    expect(within.status).toBe(EXIT.ok);
  });

  it('undetected divergence: one core and no comparator exit 16 (the most severe), with the mission file\'s waiver of the stream no help', () => {
    const mission = write('lone.json', { fsw: faulty, duration: 5, lockstep: false, spare: 'none', requirements: { commandStream: { waived: true } } });
    const run = lockstep(['fly', '--config', mission, '--upset-file', gainUpset, '--json', path('lone-out.json'), '--quiet']);
    expect(run.status).toBe(EXIT.undetectedDivergence);
    expect(run.stderr).toMatch(/^lockstep: requirement not met: undetectedDivergence: 1 upset changed released commands unseen \(\d+ cycles\)\n$/);
    expect(json('lone-out.json').undetectedDivergences).toBe(1);
    // The same upset behind the comparator is caught.
    const paired = lockstep(['fly', '--fsw', faulty, '--duration', '5', '--upset-file', gainUpset, '--quiet']);
    expect(paired.stderr).toBe('');
    expect(paired.status).toBe(EXIT.ok);
  });

  it('bad gate options and fields are refused by name', () => {
    const waive = lockstep(['fly', '--duration', '1', '--waive', 'pointing,speed', '--quiet']);
    expect(waive.status).toBe(EXIT.usage);
    expect(waive.stderr).toBe('lockstep: --waive: "speed" is not one of undetectedDivergence, pointing, missedDeadlines, commandStream\n');
    const negative = lockstep(['fly', '--duration', '1', '--max-missed', '-1']);
    expect(negative.status).toBe(EXIT.usage);
    const field = write('bad-req.json', { duration: 1, requirements: { missedDeadlines: { max: 1.5 } } });
    const bad = lockstep(['fly', '--config', field, '--quiet']);
    expect(bad.status).toBe(EXIT.config);
    expect(bad.stderr).toMatch(/^lockstep: .*bad-req\.json: requirements\.missedDeadlines\.max: /);
    const same = lockstep(['fly', '--duration', '1', '--json', path('same'), '--junit', path('same'), '--quiet']);
    expect(same.status).toBe(7);
  });
});

describe('campaign --max-silent', () => {
  const campaign = (args: string[]) => lockstep(['campaign', '--duration', '20', '--experiments', '120', '--configs', 'single,pair+spare', '--quiet', ...args]);

  it('fails (exit 20) when the upper end of a configuration\'s interval is above its bound, passes when within; the JSON and JUnit carry each bound', () => {
    const mission = write('campaign.json', { requirements: { silentFailures: { id: 'REL-7', max: { 'pair+spare': 0.5 } } } });
    const fail = campaign(['--config', mission, '--max-silent', 'single=1e-4', '--json', path('c-fail.json'), '--junit', path('c-fail.xml')]);
    expect(fail.status).toBe(EXIT.silentFailures);
    expect(fail.stderr).toMatch(/^lockstep: requirement not met: REL-7 silentFailures single: \d+ silent in \d+, 95% interval up to [\d.]+, above the 0\.0001 allowed\n$/);
    const report = json('c-fail.json');
    expect(report.requirements).toEqual([
      expect.objectContaining({ requirement: 'silentFailures', id: 'REL-7', config: 'pair+spare', status: 'met' }),
      expect.objectContaining({ requirement: 'silentFailures', id: 'REL-7', config: 'single', status: 'not-met' }),
    ]);
    expect(report.requirements[1].detail).toContain(String(report.configs.single.silent.ci95[1].toPrecision(3)));
    expectValidJunit(path('c-fail.xml'));
    expect(junitCases(path('c-fail.xml'))).toEqual({ 'REL-7 silentFailures pair+spare': 'passed', 'REL-7 silentFailures single': 'failure' });

    // The command line overrides the file's bound for a configuration.
    const pass = campaign(['--config', mission, '--max-silent', 'single=1', '--max-silent', 'pair+spare=0.2', '--json', path('c-pass.json')]);
    expect(pass.stderr).toBe('');
    expect(pass.status).toBe(EXIT.ok);
    expect(json('c-pass.json').requirements.map((verdict: { config: string; status: string }) => [verdict.config, verdict.status])).toEqual([
      ['pair+spare', 'met'],
      ['single', 'met'],
    ]);
  });

  it('a bound for a configuration not flown, or not a rate, is refused by name', () => {
    expect(campaign(['--max-silent', 'pair=0.1'])).toMatchObject({ status: EXIT.usage, stderr: 'lockstep: --max-silent: "pair" is not among the campaign\'s configurations (single, pair+spare)\n' });
    expect(campaign(['--max-silent', 'single=2'])).toMatchObject({ status: EXIT.usage, stderr: 'lockstep: --max-silent: "2" is not a rate between 0 and 1\n' });
    expect(campaign(['--max-silent', 'single'])).toMatchObject({ status: EXIT.usage });
    const mission = write('bad-config.json', { requirements: { silentFailures: { max: { triple: 0.1 } } } });
    const bad = campaign(['--config', mission]);
    expect(bad.status).toBe(EXIT.config);
    expect(bad.stderr).toMatch(/bad-config\.json: requirements\.silentFailures\.max\.triple: not a configuration/);
  });
});
