// Quaternion and vector algebra for the spacecraft plant.
//
// Convention (docs/abi.md): q = [x, y, z, w], scalar last, Hamilton product, and
// q is the attitude of the body relative to the inertial frame ("inertial to body"): it is the rotation
// that carries the inertial axes onto the body axes. With that reading the three relations the plant and
// the flight software rely on hold together:
//   kinematics            q̇ = ½ q ⊗ [ω_B, 0]            (ω in body axes, as a gyro measures it)
//   attitude error        q_err = q_target* ⊗ q          (its vector part is in body axes)
//   body-frame perturbation q' = q ⊗ δq                  (δq a small rotation about body axes)
// and coordinates transform as v_I = q ⊗ v_B ⊗ q*, i.e. v_B = q* ⊗ v_I ⊗ q (see `rotate`).
//
// These functions return fresh arrays unless given one to fill (`out`): the plant's per-cycle path (sensors,
// pointing error) fills its own, so that a simulated cycle allocates nothing. The integrator in
// dynamics.ts inlines its own arithmetic.

export type Vec3 = [number, number, number];
export type Quat = [number, number, number, number];

export function identity(): Quat {
  return [0, 0, 0, 1];
}

/** Hamilton product a ⊗ b (into `out`, which may be a or b, when given). */
export function multiply(a: Readonly<ArrayLike<number>>, b: Readonly<ArrayLike<number>>, out: Quat = [0, 0, 0, 0]): Quat {
  const ax = a[0], ay = a[1], az = a[2], aw = a[3];
  const bx = b[0], by = b[1], bz = b[2], bw = b[3];
  out[0] = aw * bx + bw * ax + ay * bz - az * by;
  out[1] = aw * by + bw * ay + az * bx - ax * bz;
  out[2] = aw * bz + bw * az + ax * by - ay * bx;
  out[3] = aw * bw - ax * bx - ay * by - az * bz;
  return out;
}

export function conjugate(q: Readonly<ArrayLike<number>>, out: Quat = [0, 0, 0, 0]): Quat {
  out[0] = -q[0];
  out[1] = -q[1];
  out[2] = -q[2];
  out[3] = q[3];
  return out;
}

export function norm(q: Readonly<Quat>): number {
  return Math.hypot(q[0], q[1], q[2], q[3]);
}

export function normalize(q: Readonly<Quat>): Quat {
  const n = norm(q);
  return [q[0] / n, q[1] / n, q[2] / n, q[3] / n];
}

/**
 * The rotation q applied to v: q ⊗ [v, 0] ⊗ q*. For an attitude q this maps body coordinates to
 * inertial ones; `rotate(conjugate(q), v)` maps inertial coordinates to body ones.
 */
export function rotate(q: Readonly<Quat>, v: Readonly<Vec3>): Vec3 {
  // v' = v + 2w (u × v) + 2 u × (u × v), u the vector part: cheaper than two products.
  const [ux, uy, uz, w] = q;
  const tx = 2 * (uy * v[2] - uz * v[1]);
  const ty = 2 * (uz * v[0] - ux * v[2]);
  const tz = 2 * (ux * v[1] - uy * v[0]);
  return [
    v[0] + w * tx + (uy * tz - uz * ty),
    v[1] + w * ty + (uz * tx - ux * tz),
    v[2] + w * tz + (ux * ty - uy * tx),
  ];
}

/** Rotation by `angle` radians about `axis` (any length but zero). */
export function fromAxisAngle(axis: Readonly<Vec3>, angle: number): Quat {
  const length = Math.hypot(axis[0], axis[1], axis[2]);
  const s = Math.sin(angle / 2) / length;
  return [axis[0] * s, axis[1] * s, axis[2] * s, Math.cos(angle / 2)];
}

/**
 * Rotation by the rotation vector r (axis × angle, radians): the exponential map, exact for any size
 * and well-conditioned near zero, where sensor noise lives.
 */
export function fromRotationVector(r: Readonly<Vec3>, out: Quat = [0, 0, 0, 0]): Quat {
  const angle = Math.hypot(r[0], r[1], r[2]);
  const half = angle / 2;
  // sin(half)/angle → 1/2 as angle → 0; the Taylor form avoids 0/0 and is exact to double precision
  // below 1e-4 rad (the next term is half⁴/120).
  const s = half < 1e-4 ? 0.5 - (half * half) / 12 : Math.sin(half) / angle;
  out[0] = r[0] * s;
  out[1] = r[1] * s;
  out[2] = r[2] * s;
  out[3] = Math.cos(half);
  return out;
}

/**
 * Angle in degrees of the rotation between two attitudes, that of q_target* ⊗ q_true: the pointing
 * error. q and −q are the same attitude, so the sign of the scalar part is ignored; atan2 keeps full
 * precision for tiny angles, where acos(|w|) would lose it.
 */
export function angleBetweenDeg(qTarget: Readonly<Quat>, qTrue: Readonly<ArrayLike<number>>): number {
  const error = multiply(conjugate(qTarget, errorScratch), qTrue, errorScratch);
  return (2 * Math.atan2(Math.hypot(error[0], error[1], error[2]), Math.abs(error[3])) * 180) / Math.PI;
}

// The pointing error is taken every simulated cycle: its product goes through one array, not fresh ones.
const errorScratch: Quat = [0, 0, 0, 0];

/** Below 1 by far more than rounding: the margin of the small-angle bound in `angleExceedsDeg`. */
const BOUND_MARGIN = 1 - 1e-6;

/**
 * Exactly `angleBetweenDeg(qTarget, qTrue) > limitDeg`, without its atan2 and hypot where a bound already
 * decides: atan(x) ≤ x, so an error whose small-angle bound is below the limit by a margin far beyond
 * rounding is within it. A pointing watch asks this every cycle, and nearly always far from the limit.
 */
export function angleExceedsDeg(qTarget: Readonly<Quat>, qTrue: Readonly<ArrayLike<number>>, limitDeg: number): boolean {
  if (limitDeg > 0) {
    const error = multiply(conjugate(qTarget, errorScratch), qTrue, errorScratch);
    const sine2 = error[0] * error[0] + error[1] * error[1] + error[2] * error[2];
    const bound = limitDeg * BOUND_MARGIN * (Math.PI / 360) * Math.abs(error[3]);
    if (sine2 < bound * bound) return false;
  }
  return angleBetweenDeg(qTarget, qTrue) > limitDeg;
}
