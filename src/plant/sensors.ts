// Sensor models: a star tracker and a three-axis rate gyro.
//
// Every random draw comes from the one SeededRandom stream passed in, in a fixed order, so a run is
// reproducible bit for bit from its seed.

import type { SeededRandom } from '../random.js';
import { fromRotationVector, multiply, type Quat, type Vec3 } from './quaternion.js';

/** One arcsecond in radians. */
export const ARCSEC = Math.PI / (180 * 3600);

export interface StarTrackerSpec {
  /** Noise 1σ about body x, y, z in arcsec; the boresight is body z, hence the larger third figure. */
  noiseArcsec: Vec3;
}

export interface GyroSpec {
  /** White noise 1σ on each sample, rad/s. */
  noiseSigma: number;
  /** 1σ of the constant bias drawn once per run on each axis, rad/s (used when `bias` is not given). */
  biasSigma: number;
  /** A fixed bias, rad/s, instead of a drawn one. */
  bias?: Vec3;
}

/** The gyro's constant bias for this run: the given one, or one drawn from `random`. */
export function drawGyroBias(spec: GyroSpec, random: SeededRandom): Vec3 {
  if (spec.bias) return [spec.bias[0], spec.bias[1], spec.bias[2]];
  return [spec.biasSigma * random.normal(), spec.biasSigma * random.normal(), spec.biasSigma * random.normal()];
}

/**
 * One cycle's sensor noise, drawn before it is applied: the gyro's white noise (rad/s, body x, y, z) and
 * the star tracker's small rotation (a quaternion). The draws do not depend on the spacecraft's state, so
 * a run can record them and apply them again to another trajectory (the campaign's pointing watch flies
 * the golden run's noise on the wrong commands' trajectory without drawing it again).
 */
export const NOISE_VALUES = 7;
const RATE_NOISE = 0;
const ATTITUDE_NOISE = 3;

/** Draws one cycle's noise into `out` at `at` (NOISE_VALUES values): the gyro's three draws, then the star tracker's. */
export function drawSensorNoise(gyro: GyroSpec, starTracker: StarTrackerSpec, random: SeededRandom, out: Float64Array, at = 0): void {
  out[at + RATE_NOISE] = gyro.noiseSigma * random.normal();
  out[at + RATE_NOISE + 1] = gyro.noiseSigma * random.normal();
  out[at + RATE_NOISE + 2] = gyro.noiseSigma * random.normal();
  const [sx, sy, sz] = starTracker.noiseArcsec;
  noise[0] = sx * ARCSEC * random.normal();
  noise[1] = sy * ARCSEC * random.normal();
  noise[2] = sz * ARCSEC * random.normal();
  fromRotationVector(noise, rotation);
  for (let i = 0; i < 4; i++) out[at + ATTITUDE_NOISE + i] = rotation[i];
}

/** Measured body rate under drawn noise: the true rate plus the bias plus the noise at `at` (into `out`). */
export function noisyRate(omega: Readonly<ArrayLike<number>>, bias: Readonly<Vec3>, noiseValues: Readonly<ArrayLike<number>>, at: number, out: Vec3): Vec3 {
  out[0] = omega[0] + bias[0] + noiseValues[at + RATE_NOISE];
  out[1] = omega[1] + bias[1] + noiseValues[at + RATE_NOISE + 1];
  out[2] = omega[2] + bias[2] + noiseValues[at + RATE_NOISE + 2];
  return out;
}

/** Measured attitude under drawn noise: the true attitude rotated by the noise's rotation at `at` (into `out`). */
export function noisyAttitude(q: Readonly<ArrayLike<number>>, noiseValues: Readonly<ArrayLike<number>>, at: number, out: Quat): Quat {
  for (let i = 0; i < 4; i++) rotation[i] = noiseValues[at + ATTITUDE_NOISE + i];
  return multiply(q, rotation, out);
}

// Scratch of the per-cycle functions, which run every simulated cycle.
const noise: Vec3 = [0, 0, 0];
const rotation: Quat = [0, 0, 0, 0];
