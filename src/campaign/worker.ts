// A campaign worker thread: claims experiments from the shared work of a run (execute.ts) until none are
// left, posting each claim's records back as it goes. It builds the campaign's context (the golden run)
// once per campaign fingerprint and keeps it for every later run.
import { CampaignContext, fingerprintOf } from './context.js';
import { claim, runClaim, type WorkerTask } from './execute.js';

let cached: { fingerprint: string; context: CampaignContext } | null = null;

export default function runTask({ spec, work: buffer, port }: WorkerTask): void {
  const fingerprint = fingerprintOf(spec);
  if (cached?.fingerprint !== fingerprint) cached = { fingerprint, context: new CampaignContext(spec) };
  const context = cached.context;
  const work = new Int32Array(buffer);
  for (let range = claim(work); range; range = claim(work)) port?.postMessage(runClaim(context, work, range));
}
