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
}

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
