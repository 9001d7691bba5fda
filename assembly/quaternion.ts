// Quaternion and 3-vector arithmetic on structs in static memory.
//
// Convention (docs/abi.md): [x, y, z, w], scalar last, Hamilton product, attitude
// q inertial to body, error q_err = q_target* ⊗ q whose vector part lies along body axes, kinematics
// q̇ = ½ q ⊗ [ω, 0]. The structs are @unmanaged: plain fixed memory, no allocation and no runtime, so
// every operation writes into a struct the caller owns. Each function reads all its operands before it
// writes, so `out` may be one of the inputs.

@unmanaged
export class Vector3 {
  x: f64;
  y: f64;
  z: f64;
}

@unmanaged
export class Quaternion {
  x: f64;
  y: f64;
  z: f64;
  w: f64;
}

export function setQuaternion(out: Quaternion, x: f64, y: f64, z: f64, w: f64): void {
  out.x = x;
  out.y = y;
  out.z = z;
  out.w = w;
}

export function setVector(out: Vector3, x: f64, y: f64, z: f64): void {
  out.x = x;
  out.y = y;
  out.z = z;
}

/** out = a ⊗ b */
export function multiply(out: Quaternion, a: Quaternion, b: Quaternion): void {
  const ax = a.x, ay = a.y, az = a.z, aw = a.w;
  const bx = b.x, by = b.y, bz = b.z, bw = b.w;
  out.x = aw * bx + bw * ax + ay * bz - az * by;
  out.y = aw * by + bw * ay + az * bx - ax * bz;
  out.z = aw * bz + bw * az + ax * by - ay * bx;
  out.w = aw * bw - ax * bx - ay * by - az * bz;
}

/** out = a* ⊗ b: the rotation from attitude a to attitude b, in a's body axes. */
export function conjugateMultiply(out: Quaternion, a: Quaternion, b: Quaternion): void {
  const ax = -a.x, ay = -a.y, az = -a.z, aw = a.w;
  const bx = b.x, by = b.y, bz = b.z, bw = b.w;
  out.x = aw * bx + bw * ax + ay * bz - az * by;
  out.y = aw * by + bw * ay + az * bx - ax * bz;
  out.z = aw * bz + bw * az + ax * by - ay * bx;
  out.w = aw * bw - ax * bx - ay * by - az * bz;
}

/** Scale q to unit length, with w ≥ 0: q and −q are one attitude, and w ≥ 0 is its short-way form. */
export function normalizeShortWay(q: Quaternion): void {
  let scale = 1 / Math.sqrt(q.x * q.x + q.y * q.y + q.z * q.z + q.w * q.w);
  if (q.w < 0) scale = -scale;
  q.x *= scale;
  q.y *= scale;
  q.z *= scale;
  q.w *= scale;
}

/**
 * q ← q ⊗ exp(½ r) for a rotation vector r (radians, body axes), renormalised, w ≥ 0. The exponential
 * uses its Taylor series, accurate to about 1e-16 for |r| up to 0.1 rad, far beyond the per-cycle
 * rotation at any rate a star tracker can follow; it keeps the trigonometric library (and the mutable
 * globals it uses) out of the flight software.
 */
export function rotateBy(q: Quaternion, rx: f64, ry: f64, rz: f64): void {
  const halfSquared = 0.25 * (rx * rx + ry * ry + rz * rz);
  // sin(a)/a and cos(a) for a = |r|/2, to the a⁶ term.
  const sinc = 1 - (halfSquared / 6) * (1 - (halfSquared / 20) * (1 - halfSquared / 42));
  const cos = 1 - (halfSquared / 2) * (1 - (halfSquared / 12) * (1 - halfSquared / 30));
  const s = 0.5 * sinc;
  const dx = rx * s, dy = ry * s, dz = rz * s;
  const x = q.x, y = q.y, z = q.z, w = q.w;
  q.x = w * dx + cos * x + y * dz - z * dy;
  q.y = w * dy + cos * y + z * dx - x * dz;
  q.z = w * dz + cos * z + x * dy - y * dx;
  q.w = w * cos - x * dx - y * dy - z * dz;
  normalizeShortWay(q);
}

export function norm(v: Vector3): f64 {
  return Math.sqrt(v.x * v.x + v.y * v.y + v.z * v.z);
}
