// A campaign summary for the trade study's tests, shaped as `lockstep campaign --json` writes it, with
// counts like the reference software's (about 7% silent for a lone core, 80% caught for a pair).
import { OUTCOMES, type OutcomeName } from '../src/campaign/experiment.js';

type Counts = Partial<Record<OutcomeName, number>>;

function table(counts: Counts) {
  const experiments = Object.values(counts).reduce((sum, count) => sum + (count ?? 0), 0);
  return { experiments, outcomes: Object.fromEntries(OUTCOMES.map((outcome) => [outcome, { count: counts[outcome] ?? 0 }])) };
}

/** A campaign summary shaped as `lockstep campaign --json` writes it (the fields the study reads). */
export function syntheticCampaign(): Record<string, unknown> {
  return {
    experiments: 30_000,
    complete: true,
    seed: 7,
    fsw: 'synthetic',
    faultSpace: { memoryRange: 'used', memoryBitsPerCore: 32_896, memory: { bits: 65_792, bitCycles: 0 }, checkpoint: { bits: 32_896, bitCycles: 0 } },
    configs: {
      single: { targets: { memory: table({ masked: 2000, latent: 7280, sdc: 700, 'pointing-violation': 20 }) } },
      pair: { targets: { memory: table({ masked: 1940, detected: 8060 }) } },
      'pair+spare': { targets: { memory: table({ masked: 1940, recovered: 8040, 'failover-failed': 20 }), checkpoint: table({ masked: 10_000 }) } },
    },
  };
}

