// Rigid-body attitude dynamics of a spacecraft with three reaction wheels along its body axes.
//
//   J ω̇ = −ω × (J ω + h_w) + τ      (Euler's equation with the wheels' momentum h_w; τ the torque the
//   ḣ_w = −τ                          wheels apply to the body, so the total momentum is exchanged, not made)
//   q̇  = ½ q ⊗ [ω, 0]                (quaternion.ts for the convention)
//
// The state is one packed Float64Array (layout below) so that a control period costs no allocation: it
// runs once per control cycle of every simulated mission. The torque is held constant over the period
// (zero-order hold, as the wheel drive holds its last command) and integrated with fixed-step RK4.
// J is diagonal: the body axes are principal axes, as in the reference scenarios.

import type { Vec3 } from './quaternion.js';

/** Packed state: attitude q (x, y, z, w), body rate ω (rad/s), wheel momentum h_w (N·m·s, body axes). */
export const STATE_LENGTH = 10;
export const Q = 0;
export const OMEGA = 4;
export const WHEEL_H = 7;

export interface WheelLimits {
  /** Largest torque a wheel can apply, N·m (each axis). */
  maxTorque: number;
  /** Largest momentum a wheel can store, N·m·s (each axis). */
  maxMomentum: number;
}

/**
 * The torque the wheels actually apply for a commanded torque, written into `applied`. Each axis is
 * clipped to ±maxTorque, and torque that would drive a wheel's |h_w| past maxMomentum during the period
 * is cut to what reaches the limit exactly (zero for a wheel already at it): a saturated wheel can
 * still be slowed down, never sped up. A non-finite command is rejected by the wheel drive (zero).
 */
export function limitTorque(
  commanded: ArrayLike<number>,
  wheelH: ArrayLike<number>,
  limits: WheelLimits,
  period: number,
  applied: Float64Array,
): void {
  for (let axis = 0; axis < 3; axis++) {
    const command = commanded[axis];
    let torque = Number.isFinite(command) ? Math.min(limits.maxTorque, Math.max(-limits.maxTorque, command)) : 0;
    const h = wheelH[axis];
    const hEnd = h - torque * period;
    if (Math.abs(hEnd) > limits.maxMomentum && Math.abs(hEnd) > Math.abs(h)) {
      torque = Math.abs(h) >= limits.maxMomentum ? 0 : (h - Math.sign(hEnd) * limits.maxMomentum) / period;
    }
    applied[axis] = torque;
  }
}

/**
 * Advance `state` in place by `period` seconds under a constant body torque: `substeps` RK4 steps, the
 * attitude renormalised after each (RK4 does not preserve |q| = 1; the drift would grow without bound).
 * The state and the four stages live in locals, not typed arrays: this runs for every cycle of every
 * simulated mission and of a lone core's pointing watch in campaigns, and locals spare it the traffic
 * through memory. The arithmetic is the textbook RK4 operation for operation (k1 + 2·k2 + 2·k3 + k4
 * summed in that order), so the results are bit-identical to it: test/plant.test.ts checks it against one.
 */
export function propagate(
  state: Float64Array,
  torque: ArrayLike<number>,
  inertia: Readonly<Vec3>,
  period: number,
  substeps: number,
): void {
  const h = period / substeps;
  const tx = torque[0], ty = torque[1], tz = torque[2];
  const jx = inertia[0], jy = inertia[1], jz = inertia[2];
  let qx = state[Q], qy = state[Q + 1], qz = state[Q + 2], qw = state[Q + 3];
  let wx = state[OMEGA], wy = state[OMEGA + 1], wz = state[OMEGA + 2];
  let ax = state[WHEEL_H], ay = state[WHEEL_H + 1], az = state[WHEEL_H + 2];
  for (let step = 0; step < substeps; step++) {
    // The stage's state (s…) and the weighted sum of the stages' derivatives (d…).
    let sqx = qx, sqy = qy, sqz = qz, sqw = qw, swx = wx, swy = wy, swz = wz, sax = ax, say = ay, saz = az;
    let dqx = 0, dqy = 0, dqz = 0, dqw = 0, dwx = 0, dwy = 0, dwz = 0, dax = 0, day = 0, daz = 0;
    for (let stage = 0; stage < 4; stage++) {
      // Total angular momentum in body axes, then the derivative: ½ q ⊗ [ω, 0], Euler's equation, ḣ_w = −τ.
      const hx = jx * swx + sax, hy = jy * swy + say, hz = jz * swz + saz;
      const kqx = 0.5 * (sqw * swx + sqy * swz - sqz * swy);
      const kqy = 0.5 * (sqw * swy + sqz * swx - sqx * swz);
      const kqz = 0.5 * (sqw * swz + sqx * swy - sqy * swx);
      const kqw = -0.5 * (sqx * swx + sqy * swy + sqz * swz);
      const kwx = (tx - (swy * hz - swz * hy)) / jx;
      const kwy = (ty - (swz * hx - swx * hz)) / jy;
      const kwz = (tz - (swx * hy - swy * hx)) / jz;
      const kax = -tx, kay = -ty, kaz = -tz;
      if (stage === 0) {
        dqx = kqx; dqy = kqy; dqz = kqz; dqw = kqw; dwx = kwx; dwy = kwy; dwz = kwz; dax = kax; day = kay; daz = kaz;
      } else if (stage < 3) {
        dqx += 2 * kqx; dqy += 2 * kqy; dqz += 2 * kqz; dqw += 2 * kqw;
        dwx += 2 * kwx; dwy += 2 * kwy; dwz += 2 * kwz;
        dax += 2 * kax; day += 2 * kay; daz += 2 * kaz;
      } else {
        dqx += kqx; dqy += kqy; dqz += kqz; dqw += kqw; dwx += kwx; dwy += kwy; dwz += kwz; dax += kax; day += kay; daz += kaz;
        break;
      }
      const c = stage === 2 ? h : h / 2;
      sqx = qx + c * kqx; sqy = qy + c * kqy; sqz = qz + c * kqz; sqw = qw + c * kqw;
      swx = wx + c * kwx; swy = wy + c * kwy; swz = wz + c * kwz;
      sax = ax + c * kax; say = ay + c * kay; saz = az + c * kaz;
    }
    const weight = h / 6;
    qx += weight * dqx; qy += weight * dqy; qz += weight * dqz; qw += weight * dqw;
    wx += weight * dwx; wy += weight * dwy; wz += weight * dwz;
    ax += weight * dax; ay += weight * day; az += weight * daz;
    const n = Math.sqrt(qx * qx + qy * qy + qz * qz + qw * qw);
    qx /= n; qy /= n; qz /= n; qw /= n;
  }
  state[Q] = qx; state[Q + 1] = qy; state[Q + 2] = qz; state[Q + 3] = qw;
  state[OMEGA] = wx; state[OMEGA + 1] = wy; state[OMEGA + 2] = wz;
  state[WHEEL_H] = ax; state[WHEEL_H + 1] = ay; state[WHEEL_H + 2] = az;
}
