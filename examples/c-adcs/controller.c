/* Attitude control: the wheel torque for each mode, and the limits every command passes through.
 *
 * Pointing is quaternion feedback in cascade: the attitude error (q_target* ⊗ q_est, taken the short
 * way) sets a body-rate command about the error's own axis (an eigenaxis slew, the shortest rotation),
 * and a rate loop tracks it. The commanded rate is the smallest of the slew-rate limit, √(2·a·θ) (the
 * rate a constant deceleration a stops from exactly on target, so a 90° slew brakes in time on the
 * wheels' limited torque) and λ·θ (near the target, where the cascade is an ordinary PD controller).
 * The gyroscopic torque ω × (Jω + h_w) is cancelled, so each axis is a decoupled double integrator.
 * Gains are angular accelerations scaled by the inertia J = diag(100, 200, 300) kg·m² of the reference
 * spacecraft (NASA 42 SC_Simple): every axis gets the same closed-loop dynamics. */
#include "state.h"

/* Principal moments of inertia, kg·m². */
static const vec3 INERTIA = {100.0, 200.0, 300.0};

/* Wheel torque limit per axis, N·m. */
#define MAX_TORQUE 0.14
/* Wheel momentum capacity, N·m·s, and where tapering of torque that would spin a wheel faster starts. */
#define MAX_WHEEL_MOMENTUM 50.0
#define WHEEL_TAPER_START 45.0

/* Rate loop bandwidth, 1/s. */
#define RATE_GAIN 0.8
/* λ, rate command per radian of error near the target, 1/s: with RATE_GAIN a PD loop with
 * ωn = √(0.8·0.15) ≈ 0.35 rad/s and ζ = ½·√(0.8/0.15) ≈ 1.15. */
#define ATTITUDE_GAIN 0.15
/* Slew-rate limit, rad/s (≈ 1.1°/s). */
#define SLEW_RATE_LIMIT 0.02
/* Planned braking deceleration, rad/s²: a third of what 0.14 N·m gives about the stiffest axis. */
#define SLEW_DECELERATION 1.5e-4
/* Rate damping gain, 1/s. */
#define DAMPING_GAIN 0.25

/* Rate damping: oppose the body rate, whatever the attitude. */
vec3 rate_damping_torque(vec3 rate) {
  vec3 torque = {
      -DAMPING_GAIN * INERTIA.x * rate.x,
      -DAMPING_GAIN * INERTIA.y * rate.y,
      -DAMPING_GAIN * INERTIA.z * rate.z,
  };
  return torque;
}

/* Pointing: turn the estimated attitude onto the target about the eigenaxis, and hold it there. */
vec3 pointing_torque(quat target, vec3 rate, vec3 wheel_momentum) {
  quat error = conjugate_multiply(target, state.attitude);
  /* The short way: q and −q are one attitude; w ≥ 0 picks the rotation of at most 180°. */
  double short_way = error.w < 0 ? -1.0 : 1.0;
  double ex = short_way * error.x, ey = short_way * error.y, ez = short_way * error.z;
  double error_sine = sqrt_(ex * ex + ey * ey + ez * ez);
  /* 2·sin(θ/2): the error angle to second order, and below it at large angles, so braking starts early. */
  double angle = 2.0 * error_sine;
  double rate_command = min_(SLEW_RATE_LIMIT, min_(sqrt_(2.0 * SLEW_DECELERATION * angle), ATTITUDE_GAIN * angle));
  /* Along −(error axis); at zero error there is no axis and no command. */
  double per_unit_error = error_sine > 0 ? -rate_command / error_sine : 0.0;

  /* Total angular momentum of body and wheels, body axes; the gyroscopic torque is ω × h. */
  double hx = INERTIA.x * rate.x + wheel_momentum.x;
  double hy = INERTIA.y * rate.y + wheel_momentum.y;
  double hz = INERTIA.z * rate.z + wheel_momentum.z;
  vec3 torque = {
      RATE_GAIN * INERTIA.x * (per_unit_error * ex - rate.x) + (rate.y * hz - rate.z * hy),
      RATE_GAIN * INERTIA.y * (per_unit_error * ey - rate.y) + (rate.z * hx - rate.x * hz),
      RATE_GAIN * INERTIA.z * (per_unit_error * ez - rate.z) + (rate.x * hy - rate.y * hx),
  };
  return torque;
}

/* A wheel's momentum changes by −torque: torque of the opposite sign to the momentum spins it up, and
 * is tapered to zero over the last WHEEL_TAPER_START..MAX_WHEEL_MOMENTUM of capacity. */
static double fit_axis(double component, double scale, double momentum) {
  /* The clamp absorbs the rounding of peak · (MAX_TORQUE / peak), which can exceed MAX_TORQUE by an ulp. */
  double scaled = clamp_(component * scale, -MAX_TORQUE, MAX_TORQUE);
  if (scaled * momentum >= 0) return scaled;
  double headroom = (MAX_WHEEL_MOMENTUM - abs_(momentum)) / (MAX_WHEEL_MOMENTUM - WHEEL_TAPER_START);
  return scaled * clamp_(headroom, 0.0, 1.0);
}

/* Fit the command to the wheels: scale the whole vector so that no axis exceeds MAX_TORQUE (scaling,
 * not clipping, keeps its direction, hence the eigenaxis), then taper what would overfill a wheel. */
vec3 limit_torque(vec3 torque, vec3 wheel_momentum) {
  double peak = max_(abs_(torque.x), max_(abs_(torque.y), abs_(torque.z)));
  double scale = peak > MAX_TORQUE ? MAX_TORQUE / peak : 1.0;
  vec3 limited = {
      fit_axis(torque.x, scale, wheel_momentum.x),
      fit_axis(torque.y, scale, wheel_momentum.y),
      fit_axis(torque.z, scale, wheel_momentum.z),
  };
  return limited;
}
