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

/** The time derivative of `state` under body torque `torque`, written into `out`. */
export function derivative(state: Float64Array, torque: ArrayLike<number>, inertia: Readonly<Vec3>, out: Float64Array): void {
  const qx = state[Q], qy = state[Q + 1], qz = state[Q + 2], qw = state[Q + 3];
  const wx = state[OMEGA], wy = state[OMEGA + 1], wz = state[OMEGA + 2];
  const jx = inertia[0], jy = inertia[1], jz = inertia[2];
  // Total angular momentum in body axes.
  const hx = jx * wx + state[WHEEL_H];
  const hy = jy * wy + state[WHEEL_H + 1];
  const hz = jz * wz + state[WHEEL_H + 2];

  // ½ q ⊗ [ω, 0]
  out[Q] = 0.5 * (qw * wx + qy * wz - qz * wy);
  out[Q + 1] = 0.5 * (qw * wy + qz * wx - qx * wz);
  out[Q + 2] = 0.5 * (qw * wz + qx * wy - qy * wx);
  out[Q + 3] = -0.5 * (qx * wx + qy * wy + qz * wz);

  out[OMEGA] = (torque[0] - (wy * hz - wz * hy)) / jx;
  out[OMEGA + 1] = (torque[1] - (wz * hx - wx * hz)) / jy;
  out[OMEGA + 2] = (torque[2] - (wx * hy - wy * hx)) / jz;

  out[WHEEL_H] = -torque[0];
  out[WHEEL_H + 1] = -torque[1];
  out[WHEEL_H + 2] = -torque[2];
}

// RK4 stage buffers, reused by every call: the integrator allocates nothing. Single-threaded JavaScript
// runs one `propagate` at a time, so sharing them is safe.
const k1 = new Float64Array(STATE_LENGTH);
const k2 = new Float64Array(STATE_LENGTH);
const k3 = new Float64Array(STATE_LENGTH);
const k4 = new Float64Array(STATE_LENGTH);
const stage = new Float64Array(STATE_LENGTH);

function setStage(state: Float64Array, k: Float64Array, h: number): void {
  for (let i = 0; i < STATE_LENGTH; i++) stage[i] = state[i] + h * k[i];
}

/**
 * Advance `state` in place by `period` seconds under a constant body torque: `substeps` RK4 steps, the
 * attitude renormalised after each (RK4 does not preserve |q| = 1; the drift would grow without bound).
 */
export function propagate(
  state: Float64Array,
  torque: ArrayLike<number>,
  inertia: Readonly<Vec3>,
  period: number,
  substeps: number,
): void {
  const h = period / substeps;
  for (let step = 0; step < substeps; step++) {
    derivative(state, torque, inertia, k1);
    setStage(state, k1, h / 2);
    derivative(stage, torque, inertia, k2);
    setStage(state, k2, h / 2);
    derivative(stage, torque, inertia, k3);
    setStage(state, k3, h);
    derivative(stage, torque, inertia, k4);
    for (let i = 0; i < STATE_LENGTH; i++) state[i] += (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);

    const qx = state[Q], qy = state[Q + 1], qz = state[Q + 2], qw = state[Q + 3];
    const n = Math.sqrt(qx * qx + qy * qy + qz * qz + qw * qw);
    for (let i = Q; i < Q + 4; i++) state[i] /= n;
  }
}
