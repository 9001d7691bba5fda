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

/** Measured body rate: the true rate plus the bias plus white noise (into `out` when given). */
export function measureRate(omega: Readonly<ArrayLike<number>>, bias: Readonly<Vec3>, spec: GyroSpec, random: SeededRandom, out: Vec3 = [0, 0, 0]): Vec3 {
  out[0] = omega[0] + bias[0] + spec.noiseSigma * random.normal();
  out[1] = omega[1] + bias[1] + spec.noiseSigma * random.normal();
  out[2] = omega[2] + bias[2] + spec.noiseSigma * random.normal();
  return out;
}

/** Measured attitude: the true attitude rotated by a small random rotation about the body axes (into `out` when given). */
export function measureAttitude(q: Readonly<ArrayLike<number>>, spec: StarTrackerSpec, random: SeededRandom, out: Quat = [0, 0, 0, 0]): Quat {
  const [sx, sy, sz] = spec.noiseArcsec;
  noise[0] = sx * ARCSEC * random.normal();
  noise[1] = sy * ARCSEC * random.normal();
  noise[2] = sz * ARCSEC * random.normal();
  return multiply(q, fromRotationVector(noise, rotation), out);
}

// Scratch of measureAttitude, which runs every simulated cycle.
const noise: Vec3 = [0, 0, 0];
const rotation: Quat = [0, 0, 0, 0];
