// The persistent region: written every cycle the software points (its bias estimate has converged), read
// once at init. The flight computer replicates the bytes to the other processor as they change; a cold
// spare's memory holds them when its init runs, so it resumes with the converged bias instead of
// re-learning it in rate damping (docs/abi.md#the-persistent-region).

import { CONVERGED_STAR_UPDATES, POINTING } from './modes';
import { covariance, gyroBias, Persistent, persistent, PERSISTENT_VALID, status } from './state';

/** The persistent region's place in memory: the ABI's two optional exports, constants. */
export function persistentOffset(): i32 {
  return <i32>changetype<usize>(persistent);
}

export function persistentLength(): i32 {
  return <i32>offsetof<Persistent>();
}

@inline
function biasVariance(axis: i32): f64 {
  // The covariance is 6×6 row-major; the bias block's diagonal is (3 + axis, 3 + axis).
  return load<f64>(covariance + (<usize>((3 + axis) * 6 + 3 + axis) << 3));
}

/** Keeps the persistent region current while pointing: the converged bias and its variance. */
export function persist(): void {
  if (status.mode != POINTING) return;
  persistent.mode = status.mode;
  persistent.biasX = gyroBias.x;
  persistent.biasY = gyroBias.y;
  persistent.biasZ = gyroBias.z;
  persistent.biasVarianceX = biasVariance(0);
  persistent.biasVarianceY = biasVariance(1);
  persistent.biasVarianceZ = biasVariance(2);
  persistent.marker = PERSISTENT_VALID;
}

/**
 * At init: a region written by a previous life of the software (a cold spare booted with the replica)
 * gives back the bias, and counts the estimate converged, so that pointing resumes as soon as the star
 * tracker gives the attitude back. An empty region (the initial image) changes nothing.
 */
export function restorePersisted(): void {
  if (persistent.marker != PERSISTENT_VALID || persistent.mode != POINTING) return;
  gyroBias.x = persistent.biasX;
  gyroBias.y = persistent.biasY;
  gyroBias.z = persistent.biasZ;
  status.biasRestored = 1;
  status.starUpdates = CONVERGED_STAR_UPDATES;
}

/** The bias variance acquisition starts from: the persisted one after a restore. */
export function restoredBiasVariance(axis: i32): f64 {
  return axis == 0 ? persistent.biasVarianceX : axis == 1 ? persistent.biasVarianceY : persistent.biasVarianceZ;
}
