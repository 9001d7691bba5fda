// A campaign worker thread: runs batches of experiments by index. It builds the campaign's context (the
// golden run) once per campaign fingerprint and keeps it for every later batch.
import { CampaignContext, fingerprintOf, type CampaignSpec } from './context.js';
import type { ExperimentRecord } from './experiment.js';

let cached: { fingerprint: string; context: CampaignContext } | null = null;

export default function runBatch({ spec, indices }: { spec: CampaignSpec; indices: number[] }): ExperimentRecord[] {
  const fingerprint = fingerprintOf(spec);
  if (cached?.fingerprint !== fingerprint) cached = { fingerprint, context: new CampaignContext(spec) };
  const context = cached.context;
  return indices.map((index) => context.run(index));
}
