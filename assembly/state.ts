// All of the flight software's memory, laid out statically.
//
// Flight software allocates nothing at run time: every variable has a fixed address decided at build
// time (memory.data reserves it in the module's static data, which the runtime never touches). That
// makes the state a small, contiguous block a hot spare can copy as a checkpoint, and an upset lands on
// a known variable. `init` gives every persistent variable its boot value; the scratch block is
// rewritten each cycle before it is read and carries nothing from one cycle to the next.

import { Quaternion, Vector3 } from './quaternion';

@unmanaged
export class Status {
  /** Current mode (modes.ts). */
  mode: i32;
  /** 1 once the attitude estimate has been seeded from a star-tracker solution. */
  attitudeAcquired: i32;
  /** Star-tracker updates accepted since boot, saturating. */
  starUpdates: i32;
  /** 1 when init took the gyro bias from the persistent region: acquisition keeps it. */
  biasRestored: i32;
}

/**
 * The persistent region (docs/abi.md#the-persistent-region): what the software writes for a cold spare
 * to boot with. Not the attitude — after a boot of a second or more it is stale, and the star tracker
 * gives it back within a cycle — but what takes long to learn: the gyro bias the filter has converged
 * on, and how well it knows it. Without it a rebooted estimator flies 5 s of rate damping on a zero bias
 * while it re-learns, and the body drifts at the bias rate meanwhile.
 */
@unmanaged
export class Persistent {
  /** PERSISTENT_VALID once written; the initial image holds 0: nothing persisted yet. */
  marker: i32;
  /** The mode when last written. */
  mode: i32;
  biasX: f64;
  biasY: f64;
  biasZ: f64;
  /** The bias error variance per axis, (rad/s)². */
  biasVarianceX: f64;
  biasVarianceY: f64;
  biasVarianceZ: f64;
}

/** Marks a written persistent region (any other value: empty). */
export const PERSISTENT_VALID: i32 = 0x50455253; // "PERS"

// Persistent state: survives from cycle to cycle.

/** Estimated attitude, inertial to body. */
export const attitude = changetype<Quaternion>(memory.data(offsetof<Quaternion>(), 8));
/** Estimated gyro bias, rad/s. */
export const gyroBias = changetype<Vector3>(memory.data(offsetof<Vector3>(), 8));
/** Error covariance of [attitude error (rad), gyro bias error (rad/s)], 6×6 row-major. */
export const covariance: usize = memory.data(6 * 6 * 8, 8);
/** Last cycle's gyro reading, rad/s: with this cycle's, it spans the period the attitude is carried over. */
export const previousGyro = changetype<Vector3>(memory.data(offsetof<Vector3>(), 8));
export const status = changetype<Status>(memory.data(offsetof<Status>(), 8));

// Scratch: written before read within each cycle.

/** Gyro reading this cycle, rad/s. */
export const gyro = changetype<Vector3>(memory.data(offsetof<Vector3>(), 8));
/** Body rate estimate this cycle (gyro minus bias), rad/s. */
export const bodyRate = changetype<Vector3>(memory.data(offsetof<Vector3>(), 8));
/** Wheel momentum this cycle, N·m·s. */
export const wheelMomentum = changetype<Vector3>(memory.data(offsetof<Vector3>(), 8));
/** Torque command this cycle, N·m. */
export const torque = changetype<Vector3>(memory.data(offsetof<Vector3>(), 8));
/** Star-tracker attitude this cycle. */
export const measured = changetype<Quaternion>(memory.data(offsetof<Quaternion>(), 8));
/** Commanded attitude this cycle. */
export const target = changetype<Quaternion>(memory.data(offsetof<Quaternion>(), 8));
/** Attitude error q_target* ⊗ q (controller), or measurement residual q* ⊗ q_measured (estimator). */
export const attitudeError = changetype<Quaternion>(memory.data(offsetof<Quaternion>(), 8));
/** Covariance propagation: the state transition matrix Φ and the product Φ P, 6×6 row-major. */
export const transition: usize = memory.data(6 * 6 * 8, 8);
export const transitionTimesCovariance: usize = memory.data(6 * 6 * 8, 8);
/** Kalman update: the error-state correction and one covariance column, 6 each. */
export const correction: usize = memory.data(6 * 8, 8);
export const covarianceColumn: usize = memory.data(6 * 8, 8);

// The persistent region, last: the flight computer replicates these bytes to the other processor as
// they are written, and loads them into a cold spare's memory before its init runs.

export const persistent = changetype<Persistent>(memory.data(offsetof<Persistent>(), 8));
