// The summary of a `lockstep hil` run: the fields of `fly`'s summary that 42's truth can vouch for, with
// the verdicts from it — the pointing error from the attitude 42 wrote, and `truthDigest`, the digest of
// 42's truth files, equal between a run with upsets and the fault-free one when failover was invisible to
// the spacecraft. A run that broke off is summarized over the cycles flown, marked incomplete.
import type { HilRun } from '../hil/hil.js';
import type { FlightSetup } from '../mission/fly.js';
import { formatRunLines, summarizeRun, type RunSummary } from './flight-summary.js';
import { formatVerdicts, judgeFlight, type FlightGateOptions, type RequirementVerdict } from './requirements.js';

export interface HilSummary extends RunSummary {
  simulator: '42';
  /** SHA-256 of 42's truth files of the run (time, attitude, rates, wheel momentum), or null. */
  truthDigest: string | null;
  /** Whether 42 flew the whole mission and finished normally. */
  complete: boolean;
  /** Why the run broke off, when it did. */
  failure: string | null;
  /**
   * The CI gates' verdicts (no commandStream: hil flies no fault-free reference); empty when the run broke
   * off, whose exit code is that of what broke it.
   */
  requirements: RequirementVerdict[];
}

export function summarizeHil(setup: FlightSetup, hil: HilRun, gates: FlightGateOptions = {}): HilSummary {
  const { events, realtime, ...summary } = summarizeRun(setup, hil.run);
  return {
    simulator: '42',
    ...summary,
    truthDigest: hil.truthDigest,
    complete: hil.complete,
    failure: hil.failure ? hil.failure.message : null,
    ...(realtime ? { realtime } : {}),
    requirements: hil.complete ? judgeFlight(summary, setup.mission, gates) : [],
    events,
  };
}

export function formatHilSummary(summary: HilSummary): string {
  return [
    `lockstep hil — NASA 42 in the loop, seed ${summary.seed}, spare ${summary.spare}${summary.lockstep ? '' : ', one core per processor (no lock-step)'}${summary.complete ? '' : ' — INCOMPLETE'}`,
    ...formatRunLines(summary),
    `  command stream       ${summary.commandDigest.slice(0, 16)}…`,
    `  42's truth           ${summary.truthDigest ? `${summary.truthDigest.slice(0, 16)}…` : 'none read'}`,
    ...(summary.failure ? [`  broke off            ${summary.failure}`] : []),
    ...formatVerdicts(summary.requirements),
  ].join('\n');
}
