// Hardened flight software in the flight computer and in campaigns: a SWIFT or EDDI build flies the
// mission with exactly the plain build's commands, its own checks are a detection cause, and hardened
// configurations sit beside the others in one campaign.
import { describe, expect, it } from 'vitest';
import { CampaignContext, hashFile } from '../src/campaign/context.js';
import { parseMission } from '../src/mission/config.js';
import { prepareFlight, REFERENCE_FSW, simulate } from '../src/mission/fly.js';

describe('fly --harden', () => {
  for (const mode of ['swift', 'eddi'] as const) {
    it(`${mode}: the same released command stream as the plain build, and nothing flagged`, () => {
      const plain = simulate(prepareFlight(parseMission({ duration: 60, upsets: { count: 0 } }, 't')), { upsets: [], oracle: false });
      const hardened = simulate(prepareFlight(parseMission({ duration: 60, harden: mode, upsets: { count: 0 } }, 't')), { upsets: [], oracle: false });
      expect(hardened.commandDigest).toBe(plain.commandDigest);
      expect(hardened.detections).toEqual({ mismatch: 0, trap: 0, watchdog: 0, check: 0 });
      // Duplicated instructions cost modelled time.
      expect(hardened.timing.meanCycleMs).toBeGreaterThan(plain.timing.meanCycleMs * 1.3);
    });
  }
});

describe('hardened configurations in a campaign', () => {
  it('judge each experiment in the hardened build too; a software check is a detection; nothing slips past pair+spare+swift', () => {
    const mission = parseMission({ duration: 60, upsets: { count: 0 } }, 't');
    const context = new CampaignContext({
      mission,
      fsw: REFERENCE_FSW,
      fswSha256: hashFile(REFERENCE_FSW),
      seed: 3,
      targets: ['result'],
      configs: ['single', 'swift', 'pair+spare+swift'],
      horizon: 50,
      width: 1,
      snapshotInterval: 10,
      cores: ['A', 'B'],
    });
    expect(context.builds.map((build) => build.variant)).toEqual(['plain', 'swift']);
    const causes = new Set<string>();
    let swiftSdc = 0;
    let singleSdc = 0;
    for (let index = 0; index < 300; index++) {
      const record = context.run(index);
      expect(Object.keys(record.outcomes).sort()).toEqual(['pair+spare+swift', 'single', 'swift']);
      expect(record.variants?.swift).toBeDefined();
      expect(['sdc', 'pointing-violation', 'failover-failed']).not.toContain(record.outcomes['pair+spare+swift']!.outcome);
      if (record.outcomes.swift!.cause) causes.add(record.outcomes.swift!.cause);
      if (record.outcomes.swift!.outcome === 'sdc') swiftSdc++;
      if (record.outcomes.single!.outcome === 'sdc') singleSdc++;
    }
    expect(causes.has('check')).toBe(true);
    // SWIFT alone catches most of what a lone plain core would release wrongly.
    expect(swiftSdc).toBeLessThan(singleSdc / 2);
  });
});
