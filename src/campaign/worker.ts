// A campaign worker thread: claims experiments from the shared work of a run (execute.ts) until none are
// left, posting each claim's records back as it goes. It builds the campaign's context (the golden run)
// once per campaign fingerprint and keeps it for every later run. A pool made with a spec (workerData)
// builds that context as soon as the thread starts, while the main thread builds its own: the worker is
// then ready when the experiments begin, rather than a golden run later.
import { workerData } from 'node:worker_threads';
import { CampaignContext, fingerprintOf, type CampaignSpec } from './context.js';
import { claim, runClaim, type WorkerTask } from './execute.js';

type Built = { fingerprint: string; context: CampaignContext } | { fingerprint: string; error: unknown };

let cached: Built | null = null;

function build(spec: CampaignSpec, fingerprint: string): Built {
  try {
    return { fingerprint, context: new CampaignContext(spec) };
  } catch (error) {
    // Thrown by the task that needs it, so that the run reports it like any worker failure.
    return { fingerprint, error };
  }
}

const early = (workerData as { campaignSpec?: CampaignSpec } | null)?.campaignSpec;
if (early) cached = build(early, fingerprintOf(early));

export default function runTask({ spec, work: buffer, port }: WorkerTask): void {
  const fingerprint = fingerprintOf(spec);
  if (cached?.fingerprint !== fingerprint) cached = build(spec, fingerprint);
  if ('error' in cached) throw cached.error;
  const context = cached.context;
  const work = new Int32Array(buffer);
  // As JSON, not as objects: cheaper to send and to receive than a structured clone of many small
  // objects, and what a worker's records become is exactly what the result file holds of them.
  for (let range = claim(work); range; range = claim(work)) port?.postMessage(JSON.stringify(runClaim(context, work, range)));
}
