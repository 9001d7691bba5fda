// The comparator: what stands between a processor's two cores and the spacecraft. It checks, at the end
// of every cycle, that both cores completed, wrote the same outputs bit for bit (NaN-safe: bit patterns,
// not numeric equality) and — unless switched off — ended in the same state. Switching the state check
// off shows which upsets the outputs alone reveal, and how late: a divergent state can hide for many
// cycles before it reaches an output, and a checkpoint committed meanwhile carries the corruption.
// A processor without lock-step (one core) has no comparator, but a core that stops — a trap, the
// watchdog, a failed software check, the software's own abort — is seen all the same: it presents no outputs.
import type { Core, CycleResult } from '../core/core.js';
import { persistentRegionsEqual, statesEqual } from '../core/state.js';

/** Every way a processor's cycle can fail to agree: the causes of a detection, the one list counts are kept by. */
export const DETECTION_CAUSES = ['mismatch', 'trap', 'watchdog', 'check', 'abort'] as const;
export type DetectionCause = (typeof DETECTION_CAUSES)[number];
export type Verdict = 'agreed' | DetectionCause;

/** A count per detection cause, all zero. */
export function countsByCause(): Record<DetectionCause, number> {
  return Object.fromEntries(DETECTION_CAUSES.map((cause) => [cause, 0])) as Record<DetectionCause, number>;
}
export type MismatchKind = 'outputs' | 'state';

export interface Comparison {
  readonly verdict: Verdict;
  readonly mismatch: MismatchKind | null;
}

const AGREED: Comparison = { verdict: 'agreed', mismatch: null };
const TRAP: Comparison = { verdict: 'trap', mismatch: null };
const WATCHDOG: Comparison = { verdict: 'watchdog', mismatch: null };
const CHECK: Comparison = { verdict: 'check', mismatch: null };
const ABORT: Comparison = { verdict: 'abort', mismatch: null };
const OUTPUTS_DIFFER: Comparison = { verdict: 'mismatch', mismatch: 'outputs' };
const STATES_DIFFER: Comparison = { verdict: 'mismatch', mismatch: 'state' };

/** How a lone core's cycle ended, as the processor sees it: stopped (and how), or completed. */
export function judgeLoneCore(result: CycleResult): Comparison {
  switch (result.status) {
    case 'trap':
      return TRAP;
    case 'watchdog':
      return WATCHDOG;
    case 'check':
      return CHECK;
    case 'abort':
      return ABORT;
    default:
      return AGREED;
  }
}

/**
 * @param blocks memory blocks to compare when `compareState` (what either core wrote, plus the scrub
 *   blocks); memory outside them is equal in both cores unless an upset struck it since its last check.
 */
export function compareCores(
  a: Core,
  b: Core,
  resultA: CycleResult,
  resultB: CycleResult,
  compareState: boolean,
  blocks: number,
): Comparison {
  // A trap or a watchdog is seen by the comparator as the core failing to present its outputs.
  if (resultA.status === 'trap' || resultB.status === 'trap') return TRAP;
  if (resultA.status === 'watchdog' || resultB.status === 'watchdog') return WATCHDOG;
  // A hardened core caught its own error: it presents no outputs, like a trapped one.
  if (resultA.status === 'check' || resultB.status === 'check') return CHECK;
  // An AssemblyScript core whose assert or runtime check failed aborted: it detected its own failure too.
  if (resultA.status === 'abort' || resultB.status === 'abort') return ABORT;
  if (!a.outputs.sameAs(b.outputs)) return OUTPUTS_DIFFER;
  // The persistent region leaves the processor every cycle for its replica, as the outputs leave for the
  // spacecraft: it is compared every cycle, whatever compareState, so that only what both cores wrote is
  // ever replicated.
  if (!persistentRegionsEqual(a, b)) return STATES_DIFFER;
  if (compareState && !statesEqual(a, b, blocks)) return STATES_DIFFER;
  return AGREED;
}

/**
 * Modelled instructions from the start of a cycle until the verdict: a core that stops by itself (a trap,
 * a failed check, an abort) raises the alarm when it stops, the first such core deciding; otherwise the comparator
 * waits for the slower core (the watchdog fires at the budget).
 */
export function decisionInstructions(verdict: Verdict, a: CycleResult, b: CycleResult = a): number {
  if (verdict === 'trap' || verdict === 'check' || verdict === 'abort') {
    const aStopped = a.status === verdict;
    const bStopped = b.status === verdict;
    if (aStopped && bStopped) return Math.min(a.instructions, b.instructions);
    return aStopped ? a.instructions : b.instructions;
  }
  return Math.max(a.instructions, b.instructions);
}
