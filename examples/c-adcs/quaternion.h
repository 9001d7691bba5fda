/* Quaternion and 3-vector arithmetic, and the little math a freestanding program needs.
 *
 * Convention (lockstep docs/abi.md): [x, y, z, w], scalar last, Hamilton product, attitude q inertial to
 * body, attitude error q_err = q_target* ⊗ q, kinematics q̇ = ½ q ⊗ [ω, 0] with ω in body axes.
 *
 * There is no libc: square root and absolute value are compiler builtins that become the wasm
 * instructions f64.sqrt and f64.abs (exactly rounded, so every core computes the same bits), and
 * nothing here needs a trigonometric function. */
#ifndef QUATERNION_H
#define QUATERNION_H

typedef struct { double x, y, z; } vec3;
typedef struct { double x, y, z, w; } quat;

static inline double sqrt_(double value) { return __builtin_sqrt(value); }
static inline double abs_(double value) { return __builtin_fabs(value); }
static inline double min_(double a, double b) { return a < b ? a : b; }
static inline double max_(double a, double b) { return a > b ? a : b; }
static inline double clamp_(double value, double low, double high) { return min_(high, max_(low, value)); }

static inline double norm3(vec3 v) { return sqrt_(v.x * v.x + v.y * v.y + v.z * v.z); }

/* a* ⊗ b: the rotation from attitude a to attitude b, in a's body axes. */
static inline quat conjugate_multiply(quat a, quat b) {
  quat out;
  out.x = a.w * b.x - b.w * a.x - a.y * b.z + a.z * b.y;
  out.y = a.w * b.y - b.w * a.y - a.z * b.x + a.x * b.z;
  out.z = a.w * b.z - b.w * a.z - a.x * b.y + a.y * b.x;
  out.w = a.w * b.w + a.x * b.x + a.y * b.y + a.z * b.z;
  return out;
}

/* q scaled to unit length with w ≥ 0 (q and −q are one attitude; w ≥ 0 is the short-way form). */
static inline quat normalize_short_way(quat q) {
  double scale = 1.0 / sqrt_(q.x * q.x + q.y * q.y + q.z * q.z + q.w * q.w);
  if (q.w < 0) scale = -scale;
  q.x *= scale;
  q.y *= scale;
  q.z *= scale;
  q.w *= scale;
  return q;
}

/* q ⊗ exp(½ r) for a small rotation vector r (rad, body axes), renormalised, w ≥ 0. sin(a)/a and
 * cos(a), a = |r|/2, by their Taylor series to the a⁶ term: accurate to about 1e-16 up to |r| = 0.1 rad,
 * far more than one control period turns at any rate the star tracker can follow. */
static inline quat rotate_by(quat q, double rx, double ry, double rz) {
  double a2 = 0.25 * (rx * rx + ry * ry + rz * rz);
  double sinc = 1.0 - (a2 / 6.0) * (1.0 - (a2 / 20.0) * (1.0 - a2 / 42.0));
  double c = 1.0 - (a2 / 2.0) * (1.0 - (a2 / 12.0) * (1.0 - a2 / 30.0));
  double s = 0.5 * sinc;
  double dx = rx * s, dy = ry * s, dz = rz * s;
  quat out;
  out.x = q.w * dx + c * q.x + q.y * dz - q.z * dy;
  out.y = q.w * dy + c * q.y + q.z * dx - q.x * dz;
  out.z = q.w * dz + c * q.z + q.x * dy - q.y * dx;
  out.w = q.w * c - q.x * dx - q.y * dy - q.z * dz;
  return normalize_short_way(out);
}

#endif
