// The spacecraft as the simulation loop sees it: it fills the flight software's input frame from its
// sensors, takes the released output frame as the wheel command, and advances one control period.
//
//   const sc = createSpacecraft(scenario, seed);
//   each cycle: sc.sense(time, inputFrame); <flight software>; sc.actuate(outputFrame); sc.advance();
//
// Deterministic: the same scenario, seed and command sequence give bit-identical states. Sensor noise
// comes from the seed's 'plant' stream, drawn in a fixed order (gyro bias once at creation, then per
// `sense` call the gyro and the star tracker), so call `sense` exactly once per cycle (or
// `senseWithNoise` with that cycle's noise as another run drew it).

import { IN, INPUT_CHANNELS, OUT } from '../abi/channels.js';
import { SeededRandom, type RandomState } from '../random.js';
import { OMEGA, Q, STATE_LENGTH, WHEEL_H, limitTorque, propagate } from './dynamics.js';
import { angleBetweenDeg, angleExceedsDeg, type Quat, type Vec3 } from './quaternion.js';
import type { Scenario } from './scenario.js';
import { drawGyroBias, drawSensorNoise, NOISE_VALUES, noisyAttitude, noisyRate } from './sensors.js';

export interface SpacecraftState {
  /** Attitude, inertial to body, [x, y, z, w]. */
  q: Quat;
  /** Body rate, rad/s, body axes. */
  omega: Vec3;
  /** Wheel momentum, N·m·s, body axes. */
  wheelH: Vec3;
}

export interface Spacecraft {
  readonly scenario: Scenario;
  /** The gyro bias of this run, rad/s (drawn from the seed unless the scenario fixes it). */
  readonly gyroBias: Vec3;
  /** A copy of the true state. */
  readonly state: SpacecraftState;
  /** The torque the wheels applied over the last period, after their limits, N·m (a copy). */
  readonly appliedTorque: Vec3;
  /** Fill every input channel of `inputFrame` (indexed by IN) for the cycle starting at `time`. */
  sense(time: number, inputFrame: Float64Array): void;
  /**
   * `sense` with the cycle's noise given (NOISE_VALUES values at `at`, as `sense` drew them into
   * `lastNoise`) instead of drawn: the noise stream does not move. Another trajectory flown on a
   * recorded run's noise reads exactly what it would have read had it drawn the noise itself.
   */
  senseWithNoise(time: number, inputFrame: Float64Array, noise: Readonly<ArrayLike<number>>, at: number): void;
  /** The noise the last `sense` drew (overwritten by the next). */
  readonly lastNoise: Float64Array;
  /** Latch the wheel torque command from the released `outputFrame` (indexed by OUT). */
  actuate(outputFrame: Float64Array): void;
  /** Advance the true state by one control period under the latched command. */
  advance(): void;
  /** Angle between the true and the target attitude, degrees. */
  pointingErrorDeg(): number;
  /** Exactly `pointingErrorDeg() > limitDeg`, cheaper far from the limit. */
  pointingErrorExceeds(limitDeg: number): boolean;
  /** The whole simulation state, noise stream included: restoring it replays the same future. */
  snapshot(): SpacecraftSnapshot;
  restore(snapshot: SpacecraftSnapshot): void;
}

export interface SpacecraftSnapshot {
  readonly state: Float64Array;
  readonly commanded: Float64Array;
  readonly applied: Float64Array;
  readonly random: RandomState;
}

/**
 * The input channels `sense` reads from the spacecraft's state and sensors. The others hold the same
 * for any trajectory (fillFixedInputs): a recorded run keeps only these (the campaign's golden run).
 */
export const SENSED_INPUTS: readonly number[] = [IN.gyro_x, IN.gyro_y, IN.gyro_z, IN.star_qx, IN.star_qy, IN.star_qz, IN.star_qw, IN.wheel_h_x, IN.wheel_h_y, IN.wheel_h_z];

/** The input channels that depend on the scenario and the time alone: the time, the period, the star tracker's validity, the target. */
export function fillFixedInputs(scenario: Scenario, time: number, inputFrame: Float64Array): void {
  const target = scenario.targetAttitude;
  inputFrame[IN.time] = time;
  inputFrame[IN.dt] = scenario.controlPeriod;
  inputFrame[IN.star_valid] = 1;
  inputFrame[IN.target_qx] = target[0];
  inputFrame[IN.target_qy] = target[1];
  inputFrame[IN.target_qz] = target[2];
  inputFrame[IN.target_qw] = target[3];
}

export function createSpacecraft(scenario: Scenario, seed: number): Spacecraft {
  const random = new SeededRandom(seed, 'plant');
  const gyroBias = drawGyroBias(scenario.gyro, random);
  const target = scenario.targetAttitude;

  const state = new Float64Array(STATE_LENGTH);
  state.set(scenario.initialAttitude, Q);
  state.set(scenario.initialRate, OMEGA);
  state.set(scenario.initialWheelMomentum, WHEEL_H);

  const wheelH = state.subarray(WHEEL_H, WHEEL_H + 3);
  // Views and buffers of the per-cycle path (sense, pointing error), which allocates nothing.
  const attitudeView = state.subarray(Q, Q + 4);
  const rateView = state.subarray(OMEGA, OMEGA + 3);
  const measuredRate: Vec3 = [0, 0, 0];
  const measuredAttitude: Quat = [0, 0, 0, 0];
  const lastNoise = new Float64Array(NOISE_VALUES);
  const commanded = new Float64Array(3);
  const applied = new Float64Array(3);

  const attitude = (): Quat => [state[Q], state[Q + 1], state[Q + 2], state[Q + 3]];
  const rate = (): Vec3 => [state[OMEGA], state[OMEGA + 1], state[OMEGA + 2]];
  const wheelMomentum = (): Vec3 => [wheelH[0], wheelH[1], wheelH[2]];

  function senseWithNoise(time: number, inputFrame: Float64Array, noise: Readonly<ArrayLike<number>>, at: number): void {
    if (inputFrame.length !== INPUT_CHANNELS.length) {
      throw new Error(`input frame has ${inputFrame.length} channels, the bus has ${INPUT_CHANNELS.length}`);
    }
    const gyro = noisyRate(rateView, gyroBias, noise, at, measuredRate);
    const star = noisyAttitude(attitudeView, noise, at, measuredAttitude);
    fillFixedInputs(scenario, time, inputFrame);
    inputFrame[IN.gyro_x] = gyro[0];
    inputFrame[IN.gyro_y] = gyro[1];
    inputFrame[IN.gyro_z] = gyro[2];
    inputFrame[IN.star_qx] = star[0];
    inputFrame[IN.star_qy] = star[1];
    inputFrame[IN.star_qz] = star[2];
    inputFrame[IN.star_qw] = star[3];
    inputFrame[IN.wheel_h_x] = wheelH[0];
    inputFrame[IN.wheel_h_y] = wheelH[1];
    inputFrame[IN.wheel_h_z] = wheelH[2];
  }

  return {
    scenario,
    gyroBias,
    get state(): SpacecraftState {
      return { q: attitude(), omega: rate(), wheelH: wheelMomentum() };
    },
    get appliedTorque(): Vec3 {
      return [applied[0], applied[1], applied[2]];
    },

    lastNoise,

    sense(time, inputFrame) {
      drawSensorNoise(scenario.gyro, scenario.starTracker, random, lastNoise);
      senseWithNoise(time, inputFrame, lastNoise, 0);
    },

    senseWithNoise,

    actuate(outputFrame) {
      commanded[0] = outputFrame[OUT.torque_x];
      commanded[1] = outputFrame[OUT.torque_y];
      commanded[2] = outputFrame[OUT.torque_z];
    },

    advance() {
      limitTorque(commanded, wheelH, scenario.wheels, scenario.controlPeriod, applied);
      propagate(state, applied, scenario.inertia, scenario.controlPeriod, scenario.substeps);
    },

    pointingErrorDeg() {
      return angleBetweenDeg(target, attitudeView);
    },

    pointingErrorExceeds(limitDeg) {
      return angleExceedsDeg(target, attitudeView, limitDeg);
    },

    snapshot() {
      return { state: state.slice(), commanded: commanded.slice(), applied: applied.slice(), random: random.snapshot() };
    },

    restore(snapshot) {
      state.set(snapshot.state);
      commanded.set(snapshot.commanded);
      applied.set(snapshot.applied);
      random.restore(snapshot.random);
    },
  };
}
