// Mode logic: which controller flies the spacecraft this cycle.
//
// After separation the spacecraft tumbles and the estimator knows nothing, so the software starts in
// rate damping, which needs only the gyro. It hands over to pointing once the body is nearly still and
// the estimator has digested enough star-tracker solutions to be trusted. Should the rate ever grow far
// beyond anything a commanded slew produces, pointing is abandoned for rate damping again: that is the
// safe reaction whatever went wrong.

import { norm } from './quaternion';
import { bodyRate, status } from './state';

export const RATE_DAMPING: i32 = 0;
export const POINTING: i32 = 1;

/** Body rate below which pointing may take over, rad/s (≈ 0.1°/s). */
const POINTING_ENTRY_RATE: f64 = 0.002;
/** Star-tracker updates after which the estimate counts as converged: 5 s at 10 Hz. */
export const CONVERGED_STAR_UPDATES: i32 = 50;
/** Body rate above which pointing is abandoned, rad/s: 2.5 times the slew rate limit. */
const POINTING_EXIT_RATE: f64 = 0.05;

export function selectMode(): void {
  const rate = norm(bodyRate);
  if (status.mode == RATE_DAMPING) {
    // The attitude must be known too: a bias restored at boot counts as converged before the first fix.
    if (rate < POINTING_ENTRY_RATE && status.starUpdates >= CONVERGED_STAR_UPDATES && status.attitudeAcquired == 1) status.mode = POINTING;
  } else if (rate > POINTING_EXIT_RATE) {
    status.mode = RATE_DAMPING;
  }
}
