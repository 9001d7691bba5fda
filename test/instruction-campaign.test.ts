// Instruction-level campaigns (targets result and branch) classify every experiment as they did before
// they were made faster: the outcomes of a fixed campaign on both flight programs are frozen in
// test/fixtures/instruction-outcomes.json, taken from the runner before its speed-ups. Anything that
// changes an outcome class, a detection cause or a latency fails here with the experiment named.
// UPDATE_INSTRUCTION_OUTCOMES=1 rewrites the fixture: only when a change of classification is intended.
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CampaignContext, hashFile, type CampaignSpec } from '../src/campaign/context.js';
import type { ConfigName, Outcome } from '../src/campaign/experiment.js';
import { parseMission } from '../src/mission/config.js';
import { REFERENCE_FSW } from '../src/mission/fly.js';
import { C_EXAMPLE_FSW } from '../src/bench/campaign-bench.js';

const FIXTURE = new URL('./fixtures/instruction-outcomes.json', import.meta.url);
const EXPERIMENTS = 1500;
const CONFIGS: readonly ConfigName[] = ['single', 'pair', 'pair+spare', 'swift'];

function specOf(fsw: string): CampaignSpec {
  return {
    mission: parseMission({ seed: 11 }, 'test'),
    fsw,
    fswSha256: hashFile(fsw),
    seed: 11,
    targets: ['result', 'branch'],
    configs: CONFIGS,
    horizon: 100,
    width: 1,
    snapshotInterval: 10,
    cores: ['A', 'B'],
    memoryRange: 'used',
  };
}

/** One experiment as a line: where the fault struck and what every configuration made of it. */
function describeOutcome(outcome: Outcome | undefined): string {
  if (!outcome) return '-';
  const parts: (string | number | undefined)[] = [outcome.outcome, 'cause' in outcome ? outcome.cause : undefined, 'mismatch' in outcome ? outcome.mismatch : undefined, 'trap' in outcome ? outcome.trap : undefined, 'latency' in outcome ? outcome.latency : undefined];
  return parts.filter((part) => part !== undefined).join(':');
}

function classify(fsw: string): string[] {
  const context = new CampaignContext(specOf(fsw));
  return Array.from({ length: EXPERIMENTS }, (_, index) => {
    const record = context.run(index);
    const where = `${record.target}@${record.cycle}/${record.core}#${record.location}.${record.bit} site ${record.site ?? '-'}`;
    return `${index} ${where} ${CONFIGS.map((config) => `${config}=${describeOutcome(record.outcomes[config])}`).join(' ')}`;
  });
}

const PROGRAMS = { reference: REFERENCE_FSW, c: C_EXAMPLE_FSW };

describe('instruction-level campaigns classify as before their speed-ups', () => {
  const frozen = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<keyof typeof PROGRAMS, string[]>;
  const fresh: Partial<Record<keyof typeof PROGRAMS, string[]>> = {};
  for (const [name, fsw] of Object.entries(PROGRAMS) as [keyof typeof PROGRAMS, string][]) {
    it(`${name}: ${EXPERIMENTS} result and branch experiments, every outcome unchanged`, () => {
      fresh[name] = classify(fsw);
      if (process.env.UPDATE_INSTRUCTION_OUTCOMES === '1') {
        writeFileSync(FIXTURE, `${JSON.stringify({ ...frozen, ...fresh }, null, 1)}\n`);
        return;
      }
      const changed = fresh[name]!.filter((line, index) => line !== frozen[name][index]);
      expect(changed.slice(0, 5), `${changed.length} experiments classified differently`).toEqual([]);
      // The fixture is not vacuous: it holds silent failures, pointing violations and detections.
      expect(frozen[name].some((line) => line.includes('single=sdc'))).toBe(true);
      expect(frozen[name].some((line) => line.includes('detected:check'))).toBe(true);
    });
  }
});
