// Attitude determination: a multiplicative extended Kalman filter (MEKF; Lefferts, Markley & Shuster
// 1982; Markley & Crassidis, "Fundamentals of Spacecraft Attitude Determination and Control", ch. 6).
//
// The gyro is integrated every cycle to carry the attitude forward; the star tracker corrects it. The
// filter estimates a 6-element error state: a small rotation δθ of the true attitude away from the
// estimate (q_true = q ⊗ δq(δθ), body axes) and the gyro bias error δb. The attitude itself stays a unit
// quaternion: after each star update the estimated δθ is folded into it and reset to zero, so the filter
// never linearises about a large angle and never carries a constrained 4-vector in its covariance.
//
// Each cycle first carries the estimate from the last cycle's time to this one's on the mean of the two
// gyro readings (the trapezoidal rule: while the wheels accelerate the body, the rate changes within a
// period, and the reading at one end alone would leave a per-cycle error the filter would blame on the
// gyro bias). Then the star tracker's solution for this cycle's time corrects it. The covariance is
// propagated alongside (P ← Φ P Φᵀ + Q) and updated one star-tracker axis at a time: the tracker's noise
// is independent per body axis, so three scalar updates replace a 3×3 inversion, and the update
// P ← P − c cᵀ / s keeps P exactly symmetric.

import { restoredBiasVariance } from './persistence';
import { conjugateMultiply, normalizeShortWay, Quaternion, rotateBy, setQuaternion, setVector } from './quaternion';
import {
  attitude,
  attitudeError,
  bodyRate,
  correction,
  covariance,
  covarianceColumn,
  gyro,
  gyroBias,
  previousGyro,
  status,
  transition,
  transitionTimesCovariance,
} from './state';

const ARCSEC: f64 = Math.PI / (180 * 3600);

/** Star-tracker noise 1σ about body x, y, z, rad (z is the boresight). */
const STAR_SIGMA_X: f64 = 2 * ARCSEC;
const STAR_SIGMA_Y: f64 = 2 * ARCSEC;
const STAR_SIGMA_Z: f64 = 20 * ARCSEC;
/** Gyro white noise 1σ per sample, rad/s. */
const GYRO_NOISE: f64 = 1e-5;
/** Gyro bias random walk, rad/s/√s: lets the filter follow a slowly drifting bias instead of freezing it. */
const GYRO_BIAS_WALK: f64 = 1e-8;
/** Gyro bias 1σ assumed at acquisition, rad/s: ten times the specified turn-on bias. */
const INITIAL_BIAS_SIGMA: f64 = 5e-5;
/** Updates counted at most: enough for every convergence test, and the counter never wraps. */
const STAR_UPDATES_SATURATION: i32 = 1 << 30;

const N: i32 = 6;

@inline
function element(matrix: usize, row: i32, column: i32): usize {
  return matrix + (<usize>(row * N + column) << 3);
}

@inline
function entry(vector: usize, index: i32): usize {
  return vector + (<usize>index << 3);
}

@inline
function starVariance(axis: i32): f64 {
  const sigma = axis == 0 ? STAR_SIGMA_X : axis == 1 ? STAR_SIGMA_Y : STAR_SIGMA_Z;
  return sigma * sigma;
}

/** Boot state: no attitude yet (the first star-tracker solution provides it), zero bias. */
export function resetEstimator(): void {
  setQuaternion(attitude, 0, 0, 0, 1);
  setVector(gyroBias, 0, 0, 0);
  setVector(previousGyro, 0, 0, 0);
  memory.fill(covariance, 0, N * N * 8);
  status.attitudeAcquired = 0;
  status.starUpdates = 0;
  status.biasRestored = 0;
}

/** Seed the estimate from a star-tracker solution, with that solution's own uncertainty. */
export function acquireAttitude(measured: Quaternion): void {
  setQuaternion(attitude, measured.x, measured.y, measured.z, measured.w);
  normalizeShortWay(attitude);
  memory.fill(covariance, 0, N * N * 8);
  for (let axis = 0; axis < 3; axis++) {
    store<f64>(element(covariance, axis, axis), starVariance(axis));
    const biasVariance = status.biasRestored == 1 ? restoredBiasVariance(axis) : INITIAL_BIAS_SIGMA * INITIAL_BIAS_SIGMA;
    store<f64>(element(covariance, axis + 3, axis + 3), biasVariance);
  }
  status.attitudeAcquired = 1;
}

/** Correct the estimate with a star-tracker solution: three scalar Kalman updates, then the reset. */
export function updateWithStarTracker(measured: Quaternion): void {
  // Residual rotation from the estimate to the measurement, the short way; 2·vector part ≈ δθ measured.
  conjugateMultiply(attitudeError, attitude, measured);
  const toAngle: f64 = attitudeError.w < 0 ? -2 : 2;

  memory.fill(correction, 0, N * 8);
  for (let axis = 0; axis < 3; axis++) {
    const residualComponent = load<f64>(changetype<usize>(attitudeError) + (<usize>axis << 3));
    const innovation = toAngle * residualComponent - load<f64>(entry(correction, axis));
    const inverseInnovationVariance = 1 / (load<f64>(element(covariance, axis, axis)) + starVariance(axis));
    for (let row = 0; row < N; row++) {
      store<f64>(entry(covarianceColumn, row), load<f64>(element(covariance, row, axis)));
    }
    for (let row = 0; row < N; row++) {
      const c = load<f64>(entry(covarianceColumn, row));
      store<f64>(entry(correction, row), load<f64>(entry(correction, row)) + c * inverseInnovationVariance * innovation);
      for (let column = 0; column < N; column++) {
        // (c_row · c_column) / s: the same bits for (row, column) and (column, row).
        const p = element(covariance, row, column);
        store<f64>(p, load<f64>(p) - c * load<f64>(entry(covarianceColumn, column)) * inverseInnovationVariance);
      }
    }
  }

  // Reset: fold the attitude correction into the quaternion, the bias correction into the bias.
  rotateBy(attitude, load<f64>(entry(correction, 0)), load<f64>(entry(correction, 1)), load<f64>(entry(correction, 2)));
  gyroBias.x += load<f64>(entry(correction, 3));
  gyroBias.y += load<f64>(entry(correction, 4));
  gyroBias.z += load<f64>(entry(correction, 5));
  if (status.starUpdates < STAR_UPDATES_SATURATION) status.starUpdates++;
}

/**
 * The angle of the last star-tracker update's residual rotation, rad: how far the solution was from the
 * prediction (the innovation), which a well-tuned filter keeps near the star tracker's noise.
 */
export function innovationAngle(): f64 {
  return 2 * sqrt(attitudeError.x * attitudeError.x + attitudeError.y * attitudeError.y + attitudeError.z * attitudeError.z);
}

/** This cycle's body rate: the gyro reading less the estimated bias. Keeps the reading for the next cycle. */
export function estimateBodyRate(): void {
  bodyRate.x = gyro.x - gyroBias.x;
  bodyRate.y = gyro.y - gyroBias.y;
  bodyRate.z = gyro.z - gyroBias.z;
  setVector(previousGyro, gyro.x, gyro.y, gyro.z);
}

/** Carry the estimate and its covariance forward over the period `dt` that ends at this cycle. */
export function propagate(dt: f64): void {
  const wx = 0.5 * (previousGyro.x + gyro.x) - gyroBias.x;
  const wy = 0.5 * (previousGyro.y + gyro.y) - gyroBias.y;
  const wz = 0.5 * (previousGyro.z + gyro.z) - gyroBias.z;
  rotateBy(attitude, wx * dt, wy * dt, wz * dt);

  // Φ = [[I − [ω×] dt, −I dt], [0, I]]: the attitude error turns with the body and grows with the
  // bias error (first order in dt, ample at a 0.1 s period and a few mrad/s).
  memory.fill(transition, 0, N * N * 8);
  for (let i = 0; i < N; i++) store<f64>(element(transition, i, i), 1);
  store<f64>(element(transition, 0, 1), wz * dt);
  store<f64>(element(transition, 0, 2), -wy * dt);
  store<f64>(element(transition, 1, 0), -wz * dt);
  store<f64>(element(transition, 1, 2), wx * dt);
  store<f64>(element(transition, 2, 0), wy * dt);
  store<f64>(element(transition, 2, 1), -wx * dt);
  for (let i = 0; i < 3; i++) store<f64>(element(transition, i, i + 3), -dt);

  for (let row = 0; row < N; row++) {
    for (let column = 0; column < N; column++) {
      let sum: f64 = 0;
      for (let k = 0; k < N; k++) {
        sum += load<f64>(element(transition, row, k)) * load<f64>(element(covariance, k, column));
      }
      store<f64>(element(transitionTimesCovariance, row, column), sum);
    }
  }
  // P = (Φ P) Φᵀ, upper triangle computed and mirrored so that P stays exactly symmetric.
  for (let row = 0; row < N; row++) {
    for (let column = row; column < N; column++) {
      let sum: f64 = 0;
      for (let k = 0; k < N; k++) {
        sum += load<f64>(element(transitionTimesCovariance, row, k)) * load<f64>(element(transition, column, k));
      }
      store<f64>(element(covariance, row, column), sum);
      store<f64>(element(covariance, column, row), sum);
    }
  }

  // Process noise Q (Markley & Crassidis, ch. 6): the angle picks up (GYRO_NOISE·dt)² of white noise
  // per period, and the bias random walk σu adds σu²dt³/3 to it, σu²dt to the bias, −σu²dt²/2 between.
  const angleVariance = GYRO_NOISE * GYRO_NOISE * dt * dt + (GYRO_BIAS_WALK * GYRO_BIAS_WALK * dt * dt * dt) / 3;
  const crossVariance = -0.5 * GYRO_BIAS_WALK * GYRO_BIAS_WALK * dt * dt;
  const biasVariance = GYRO_BIAS_WALK * GYRO_BIAS_WALK * dt;
  for (let i = 0; i < 3; i++) {
    const attitudeDiagonal = element(covariance, i, i);
    const biasDiagonal = element(covariance, i + 3, i + 3);
    const upper = element(covariance, i, i + 3);
    const lower = element(covariance, i + 3, i);
    store<f64>(attitudeDiagonal, load<f64>(attitudeDiagonal) + angleVariance);
    store<f64>(biasDiagonal, load<f64>(biasDiagonal) + biasVariance);
    store<f64>(upper, load<f64>(upper) + crossVariance);
    store<f64>(lower, load<f64>(lower) + crossVariance);
  }
}
