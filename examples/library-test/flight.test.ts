// How a flight-software team tests with lockstep from its own suite: `npm install lockstep`, then fly the
// mission with upsets and assert on the summary. CI runs this file against the packed package (.ci/run).
import { campaign, ConfigError, fly, harden, inspect, type CampaignResult, type FlySummary, type MissionInput, type RequirementVerdict } from 'lockstep';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The reference flight software ships with the package.
const referenceFsw = createRequire(import.meta.url).resolve('lockstep/package.json').replace(/package\.json$/, 'build/adcs.wasm');

const verdict = (summary: { requirements: RequirementVerdict[] }, name: RequirementVerdict['requirement']) => summary.requirements.find((v) => v.requirement === name)!;

// An attitude hold: the spacecraft starts at rest on its target, and must stay within 0.05° of it from 10 s
// on, for 40 s, through 10 random upsets on a hot spare.
const hold: MissionInput = {
  duration: 40,
  seed: 7,
  spacecraft: { initialAttitude: [0, 0, 0, 1], initialRate: [0, 0, 0] },
  targetAttitude: [0, 0, 0, 1],
  pointing: { settleTime: 10 },
  upsets: { count: 10 },
  requirements: { pointing: { id: 'ADCS-012' } },
};

describe('a flight with upsets', () => {
  const summary: FlySummary = fly({ mission: hold });

  it('loses no cycle: the released commands are those of the fault-free flight', () => {
    expect(summary.upsetsInjected).toBe(10);
    expect(summary.matchesFaultFree).toBe(true);
    expect(summary.commandDigest).toBe(summary.faultFreeCommandDigest);
    expect(summary.undetectedDivergences).toBe(0);
    expect(summary.missedDeadlines).toBe(0);
  });

  it('meets the pointing requirement, reported under its ID', () => {
    expect(summary.pointing.met).toBe(true);
    expect(summary.pointing.maxErrorDegAfterSettling).toBeLessThanOrEqual(summary.pointing.requirementDeg);
    expect(verdict(summary, 'pointing')).toMatchObject({ id: 'ADCS-012', status: 'met' });
    expect(summary.requirements.every((v) => v.status === 'met')).toBe(true);
  });

  it('is reproducible from its seed', () => {
    const again = fly({ mission: hold });
    expect(again.commandDigest).toBe(summary.commandDigest);
    expect(again.events).toEqual(summary.events);
  });
});

describe('a flight without a spare', () => {
  it('reports lost commands as a requirement not met, without throwing', () => {
    const summary = fly({ mission: { duration: 20, spare: 'none', upsets: { count: 10, targets: ['memory'] } } });
    expect(summary.failovers).toBe(0);
    expect(summary.detections.mismatch + summary.detections.trap).toBeGreaterThan(0);
    expect(summary.matchesFaultFree).toBe(false);
    expect(verdict(summary, 'commandStream').status).toBe('not-met');
  });
});

describe('the rest of the API', () => {
  it('campaign: silent failures per configuration, with a bound on the upper end of the interval', async () => {
    const result: CampaignResult = await campaign({ mission: { duration: 20 }, experiments: 60, configs: ['single', 'pair+spare'], maxSilent: { 'pair+spare': 0.2 } });
    expect(result.experiments).toBe(60);
    expect(result.configs['pair+spare']!.silent.count).toBe(0);
    expect(result.requirements).toEqual([expect.objectContaining({ requirement: 'silentFailures', config: 'pair+spare', status: 'met' })]);
  });

  it('inspect and harden: the reference flight software conforms, and so does its SWIFT build', () => {
    expect(inspect(referenceFsw, { cycles: 10 })).toMatchObject({ conforms: true, problems: [] });
    const hardened = harden(readFileSync(referenceFsw), { mode: 'swift' });
    expect(hardened.report.checks.total).toBeGreaterThan(0);
    expect(hardened.binary.length).toBeGreaterThan(readFileSync(referenceFsw).length);
  });

  it('a bad mission is a ConfigError naming the field', () => {
    expect(() => fly({ mission: { duration: -1 } })).toThrow(ConfigError);
    expect(() => fly({ mission: { duration: -1 } })).toThrow(/^mission: duration: /);
  });
});
