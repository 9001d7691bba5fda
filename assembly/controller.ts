// Attitude control: the wheel torque for each mode, and the limits every command passes through.
//
// Pointing is a cascade in the spirit of Wie's eigenaxis slew (Wie, Weiss & Arapostathis 1989; Wie &
// Lu 1995): the attitude error sets a body-rate command along the error's own axis, so the spacecraft
// turns about a fixed eigenaxis, the shortest rotation; the rate loop then tracks that command. The rate
// command is the smallest of
//   - the slew rate limit (keeps wheel momentum and gyroscopic torques small, the slew smooth),
//   - √(2·a·θ), the rate from which a constant deceleration a stops exactly on target (so a 90° slew
//     brakes in time instead of overshooting on the wheels' limited torque),
//   - λ·θ, a linear law near the target, where it makes the loop an ordinary PD controller.
// Gyroscopic torque ω × (Jω + h_w) is cancelled, so each axis behaves as a decoupled double integrator.
// All gains are angular accelerations scaled by the reference spacecraft's inertia: every axis gets the
// same closed-loop dynamics.

import { conjugateMultiply } from './quaternion';
import { attitude, attitudeError, bodyRate, target, torque, wheelMomentum } from './state';

/** Principal moments of inertia of the reference spacecraft (NASA 42 SC_Simple), kg·m². */
const INERTIA_X: f64 = 100;
const INERTIA_Y: f64 = 200;
const INERTIA_Z: f64 = 300;

/** Wheel torque limit per axis, N·m. */
const MAX_TORQUE: f64 = 0.14;
/** Wheel momentum capacity, N·m·s, and where tapering of torque that would spin a wheel faster starts. */
const MAX_WHEEL_MOMENTUM: f64 = 50;
const WHEEL_MOMENTUM_TAPER_START: f64 = 45;

// Gains. The same binary also flies the larger spacecraft (up to 9 times the inertia about an axis, which
// the software does not know): there the loop is that many times slower and less damped, hence a fast,
// well-damped design here and a braking deceleration the larger spacecraft can also deliver.

/** Rate loop bandwidth, 1/s: torque per unit rate error, per unit inertia. */
const RATE_GAIN: f64 = 0.8;
/** λ: rate command per radian of attitude error near the target, 1/s. With RATE_GAIN this is a PD loop
 *  with ωn = √(RATE_GAIN·λ) ≈ 0.35 rad/s and damping ζ = ½·√(RATE_GAIN/λ) ≈ 1.15. */
const ATTITUDE_GAIN: f64 = 0.15;
/** Slew rate limit, rad/s (≈ 1.1°/s). */
const SLEW_RATE_LIMIT: f64 = 0.02;
/** Planned braking deceleration, rad/s²: about what 0.14 N·m gives on 900 kg·m² (the larger spacecraft's
 *  x axis), a third of what the reference spacecraft has about its stiffest axis. */
const SLEW_DECELERATION: f64 = 1.5e-4;
/** Rate damping gain, 1/s: torque per unit body rate, per unit inertia. */
const DAMPING_GAIN: f64 = 0.25;

/** Rate damping: oppose the body rate, whatever the attitude. */
export function rateDampingTorque(): void {
  torque.x = -DAMPING_GAIN * INERTIA_X * bodyRate.x;
  torque.y = -DAMPING_GAIN * INERTIA_Y * bodyRate.y;
  torque.z = -DAMPING_GAIN * INERTIA_Z * bodyRate.z;
}

/** Pointing: turn the estimated attitude onto the target, about the eigenaxis, and hold it there. */
export function pointingTorque(): void {
  conjugateMultiply(attitudeError, target, attitude);
  // The short way: q and −q are the same attitude; w ≥ 0 picks the rotation of at most 180°.
  const shortWay: f64 = attitudeError.w < 0 ? -1 : 1;
  const ex = shortWay * attitudeError.x, ey = shortWay * attitudeError.y, ez = shortWay * attitudeError.z;
  const errorSine = Math.sqrt(ex * ex + ey * ey + ez * ez);
  // 2·sin(θ/2): the error angle to second order, and below it at large angles, so braking starts early.
  const angle = 2 * errorSine;

  const rateCommand = min(SLEW_RATE_LIMIT, min(Math.sqrt(2 * SLEW_DECELERATION * angle), ATTITUDE_GAIN * angle));
  // Along −(error axis); at zero error there is no axis and no command.
  const perUnitError = errorSine > 0 ? -rateCommand / errorSine : 0;

  const wx = bodyRate.x, wy = bodyRate.y, wz = bodyRate.z;
  const hx = INERTIA_X * wx + wheelMomentum.x;
  const hy = INERTIA_Y * wy + wheelMomentum.y;
  const hz = INERTIA_Z * wz + wheelMomentum.z;
  torque.x = RATE_GAIN * INERTIA_X * (perUnitError * ex - wx) + (wy * hz - wz * hy);
  torque.y = RATE_GAIN * INERTIA_Y * (perUnitError * ey - wy) + (wz * hx - wx * hz);
  torque.z = RATE_GAIN * INERTIA_Z * (perUnitError * ez - wz) + (wx * hy - wy * hx);
}

@inline
function wheelTaper(torqueComponent: f64, momentum: f64): f64 {
  // The wheel's momentum changes by −torque: torque of the opposite sign to the momentum spins it up.
  if (torqueComponent * momentum >= 0) return 1;
  const headroom = (MAX_WHEEL_MOMENTUM - Math.abs(momentum)) / (MAX_WHEEL_MOMENTUM - WHEEL_MOMENTUM_TAPER_START);
  return max(0, min(1, headroom));
}

/**
 * Fit the command to the wheels: scale the whole vector so no axis exceeds MAX_TORQUE (scaling, not
 * clipping, keeps its direction, hence the eigenaxis), then taper torque that would spin a wheel past
 * its momentum capacity.
 */
export function limitTorque(): void {
  const peak = max(Math.abs(torque.x), max(Math.abs(torque.y), Math.abs(torque.z)));
  const scale = peak > MAX_TORQUE ? MAX_TORQUE / peak : 1;
  torque.x = fitAxis(torque.x, scale, wheelMomentum.x);
  torque.y = fitAxis(torque.y, scale, wheelMomentum.y);
  torque.z = fitAxis(torque.z, scale, wheelMomentum.z);
}

@inline
function fitAxis(component: f64, scale: f64, momentum: f64): f64 {
  // The clamp only absorbs the rounding of peak · (MAX_TORQUE / peak), which can exceed MAX_TORQUE by an ulp.
  const scaled = max(-MAX_TORQUE, min(MAX_TORQUE, component * scale));
  return scaled * wheelTaper(scaled, momentum);
}
