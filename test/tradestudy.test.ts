// The trade study: the Monte Carlo against the exact Markov chain (the cross-check issue 14 asks for), the
// chain against textbook reliability formulas, the posterior draws, determinism, the health policy, and the
// refusal of campaign files that cannot mean anything.
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../src/random.js';
import { configurationsOf, CONFIGURATION_NAMES } from '../src/tradestudy/configurations.js';
import { dirichletDraw, gammaVariate } from '../src/tradestudy/dirichlet.js';
import { TradeStudyInputError } from '../src/tradestudy/errors.js';
import { chainOf, transient } from '../src/tradestudy/markov.js';
import { MissionSimulator, runBlock, runTrials } from '../src/tradestudy/monte-carlo.js';
import { campaignOutcomesOf, tableOf } from '../src/tradestudy/outcomes.js';
import { HOURS_PER_YEAR, type StudyParameters } from '../src/tradestudy/parameters.js';
import { runTradeStudy } from '../src/tradestudy/study.js';
import { syntheticCampaign } from './tradestudy-support.js';

const measured = campaignOutcomesOf(syntheticCampaign(), 'synthetic.json');

function parameters(overrides: Partial<StudyParameters> = {}): StudyParameters {
  return {
    upsetRatePerBitPerDay: 1e-6,
    fitPerCore: 5000,
    dormantFactor: 0.5,
    policy: { failThreshold: 0, windowHours: 1, repairHours: null },
    missionYears: 5,
    fatal: 'silent',
    controlPeriodSeconds: 0.1,
    coldBootSeconds: 1,
    ...overrides,
  };
}

describe('the Monte Carlo agrees with the Markov chain', () => {
  // Rates high enough that every path is taken: permanent faults, failovers, a dead cold spare found at
  // its boot, simplex and pair modes, fatal upsets. Fixed seed: the same figures every run.
  for (const repairHours of [null, 200]) {
    it(`for every configuration, the chain's P(success) lies in the Monte Carlo's 95% interval (${repairHours === null ? 'no repair' : 'repair in 200 h'})`, async () => {
      const study = await runTradeStudy({ measured, parameters: parameters({ policy: { failThreshold: 0, windowHours: 1, repairHours } }), seed: 11, trials: 20_000 });
      expect(study.configurations.map((c) => c.name)).toEqual([...CONFIGURATION_NAMES]);
      for (const c of study.configurations) {
        expect(c.markov, c.name).not.toBeNull();
        // Not a degenerate agreement: the probabilities are away from 0 and 1 for the spared configurations.
        expect(c.markov!.value, c.name).toBeGreaterThanOrEqual(c.ci95[0]);
        expect(c.markov!.value, c.name).toBeLessThanOrEqual(c.ci95[1]);
        expect(c.markov!.credible95[0]).toBeLessThanOrEqual(c.markov!.value);
        expect(c.markov!.credible95[1]).toBeGreaterThanOrEqual(c.markov!.value);
      }
      const success = Object.fromEntries(study.configurations.map((c) => [c.name, c.pMissionSuccess]));
      expect(success.single).toBeLessThan(0.5);
      expect(success['pair+hot']).toBeGreaterThan(success.pair);
      expect(success['tmr+spare']).toBeGreaterThan(success.tmr);
    });
  }
});

describe('the Markov chain', () => {
  const hours = 5 * HOURS_PER_YEAR;
  const quiet = parameters({ upsetRatePerBitPerDay: 0 });
  const none = { fatal: 0, failover: 0 };
  const byName = (p: StudyParameters) => Object.fromEntries(configurationsOf(measured, p).map((c) => [c.name, c]));
  const lambda = 5000e-9;

  it('gives TMR without repair its textbook reliability, 3e^(−2λt) − 2e^(−3λt)', () => {
    const chain = chainOf(byName(quiet).tmr, quiet, none, none);
    const r = Math.exp(-lambda * hours);
    expect(1 - transient(chain, hours)[chain.lost]).toBeCloseTo(3 * r * r - 2 * r * r * r, 12);
  });

  it('gives a hot-spared pair with repair the two-unit repairable system\'s (s₁e^(s₂t) − s₂e^(s₁t))/(s₁ − s₂)', () => {
    const p = parameters({ upsetRatePerBitPerDay: 0, policy: { failThreshold: 0, windowHours: 1, repairHours: 24 } });
    const chain = chainOf(byName(p)['pair+hot'], p, none, none);
    const a = 2 * lambda; // a processor is two cores
    const mu = 1 / 24;
    const root = Math.sqrt(a * a + 6 * a * mu + mu * mu);
    const s1 = (-(3 * a + mu) + root) / 2;
    const s2 = (-(3 * a + mu) - root) / 2;
    const expected = (s1 * Math.exp(s2 * hours) - s2 * Math.exp(s1 * hours)) / (s1 - s2);
    expect(1 - transient(chain, hours)[chain.lost]).toBeCloseTo(expected, 10);
  });

  it('gives a lone core e^(−(λ + fatal)t), and its distribution sums to 1', () => {
    const chain = chainOf(byName(quiet).single, quiet, { fatal: 1e-5, failover: 0 }, null);
    const distribution = transient(chain, hours);
    expect(distribution[chain.lost]).toBeCloseTo(1 - Math.exp(-(lambda + 1e-5) * hours), 12);
    expect(distribution.reduce((sum, p) => sum + p, 0)).toBeCloseTo(1, 12);
  });
});

describe('posterior draws', () => {
  it('Gamma variates have mean = shape, below 1 and above', () => {
    const random = new SeededRandom(3, 'gamma');
    for (const shape of [0.5, 3]) {
      let sum = 0;
      for (let i = 0; i < 40_000; i++) sum += gammaVariate(shape, random);
      expect(sum / 40_000).toBeCloseTo(shape, 1);
    }
  });

  it('Dirichlet draws sum to 1 and average to alpha / Σ alpha; a zero alpha never occurs', () => {
    const random = new SeededRandom(4, 'dirichlet');
    const alphas = [2, 5, 0.5, 0];
    const mean = [0, 0, 0, 0];
    for (let i = 0; i < 20_000; i++) {
      const draw = dirichletDraw(alphas, random);
      expect(draw.reduce((sum, p) => sum + p, 0)).toBeCloseTo(1, 12);
      expect(draw[3]).toBe(0);
      draw.forEach((p, k) => (mean[k] += p / 20_000));
    }
    expect(mean[0]).toBeCloseTo(2 / 7.5, 2);
    expect(mean[1]).toBeCloseTo(5 / 7.5, 2);
    expect(mean[2]).toBeCloseTo(0.5 / 7.5, 2);
  });
});

describe('determinism', () => {
  const p = parameters();
  const [pairHot] = configurationsOf(measured, p, ['pair+hot']);

  it('the same seed gives the same study, to the last digit', async () => {
    const once = await runTradeStudy({ measured, parameters: p, seed: 5, trials: 3000, configurations: ['pair+cold'] });
    const again = await runTradeStudy({ measured, parameters: p, seed: 5, trials: 3000, configurations: ['pair+cold'] });
    expect(again).toEqual(once);
  });

  it('worker threads give the same study as one thread, to the last digit', async () => {
    const options = { measured, parameters: p, seed: 6, trials: 12_500, configurations: ['pair+hot', 'tmr+spare'] as const, markov: false };
    const alone = await runTradeStudy({ ...options, jobs: 1 });
    const threads = await runTradeStudy({ ...options, jobs: 2 });
    expect(threads).toEqual(alone);
  });

  it('trials are drawn in blocks of their own stream: the whole is the sum of its blocks, however they are shared out', () => {
    const whole = runTrials(pairHot, p, 9, 2500);
    const simulator = new MissionSimulator(pairHot, p);
    const blocks = [runBlock(simulator, 9, 2, 500), runBlock(simulator, 9, 0, 1000), runBlock(simulator, 9, 1, 1000)];
    expect(blocks.reduce((sum, block) => sum + block.successes, 0)).toBe(whole.successes);
    expect(blocks.reduce((sum, block) => sum + block.missedPerYear.sum, 0)).toBeCloseTo(whole.missedPerYear.sum, 9);
  });
});

describe('the health policy', () => {
  it('a fail count over its threshold takes processors out: more time degraded, and no Markov figure', async () => {
    const loud = parameters({ upsetRatePerBitPerDay: 1e-5, fitPerCore: 0 });
    const without = await runTradeStudy({ measured, parameters: loud, seed: 2, trials: 400, configurations: ['pair+hot', 'tmr'], markov: false });
    const withPolicy = await runTradeStudy({
      measured,
      parameters: { ...loud, policy: { failThreshold: 2, windowHours: 48, repairHours: null } },
      seed: 2,
      trials: 400,
      configurations: ['pair+hot', 'tmr'],
    });
    for (let i = 0; i < 2; i++) {
      expect(without.configurations[i].degradedFraction.mean).toBe(0);
      expect(withPolicy.configurations[i].degradedFraction.mean).toBeGreaterThan(0.05);
      expect(withPolicy.configurations[i].markov).toBeNull();
      expect(withPolicy.configurations[i].markovNote).toMatch(/not a constant-rate/);
    }
  });

  it('a cold spare costs its boot in missed cycles at every failover, a hot one nothing', async () => {
    const study = await runTradeStudy({ measured, parameters: parameters({ fitPerCore: 0 }), seed: 3, trials: 2000, configurations: ['pair+cold', 'pair+hot'], markov: false });
    const [cold, hot] = study.configurations;
    // 0.806 of the 24 memory upsets a year fail over (checkpoint upsets are masked); the cold spare holds 10 cycles each.
    expect(cold.missedCyclesPerYear.mean).toBeGreaterThan(150);
    expect(cold.missedCyclesPerYear.mean).toBeLessThan(10 * 24.1 * 0.806);
    expect(hot.missedCyclesPerYear.mean).toBeLessThan(1);
  });
});

describe('campaign files', () => {
  const broken = (edit: (json: any) => void) => {
    const json = syntheticCampaign();
    edit(json);
    return () => campaignOutcomesOf(json, 'c.json');
  };

  it('a missing or malformed field is named, with the file', () => {
    expect(broken((json) => delete json.faultSpace)).toThrow(new TradeStudyInputError('c.json: faultSpace: missing or not an object'));
    expect(broken((json) => delete json.configs.pair.targets.memory.outcomes.sdc)).toThrow(/^c\.json: configs\.pair\.targets\.memory\.outcomes\.sdc: missing/);
    expect(broken((json) => (json.configs.pair.targets.memory.outcomes.sdc.count = -1))).toThrow(/configs\.pair\.targets\.memory\.outcomes\.sdc\.count: must be a whole number/);
    expect(broken((json) => (json.configs.pair.targets.memory.experiments = 5))).toThrow(/add up to 10000, not to the 5 experiments/);
    expect(broken((json) => (json.complete = false))).toThrow(/c\.json: complete: the campaign is incomplete/);
  });

  it('a configuration the study needs and the campaign lacks is named', () => {
    const json = syntheticCampaign();
    delete (json.configs as Record<string, unknown>).pair;
    const partial = campaignOutcomesOf(json, 'c.json');
    expect(() => tableOf(partial, 'pair', 'tmr with a core lost')).toThrow(/c\.json: configs\.pair: missing \(tmr with a core lost needs/);
    expect(() => configurationsOf(partial, parameters(), ['single'])).not.toThrow();
  });

  it('reads the bits per core from the fault space (two cores struck by default)', () => {
    expect(measured.bitsPerCore.memory).toBe(32_896);
    expect(measured.checkpointBits).toBe(32_896);
  });
});
