// Mission scenarios: the spacecraft, its sensors and actuators, the manoeuvre and what counts as good
// pointing. Figures are from /work/shared/reference-scenario.md (NASA 42's SC_Simple for the small
// satellite, Basilisk's scenarioAttitudeFeedbackRW for the larger one).

import { fromAxisAngle, multiply, type Quat, type Vec3 } from './quaternion.js';
import type { WheelLimits } from './dynamics.js';
import type { GyroSpec, StarTrackerSpec } from './sensors.js';

export interface ReactionWheels extends WheelLimits {
  /** Rotor inertia about the spin axis, kg·m² (wheel speed = h / inertia); the dynamics need only h. */
  wheelInertia: number;
}

export interface Scenario {
  name: string;
  massKg: number;
  /** Principal moments of inertia about body x, y, z, kg·m². */
  inertia: Vec3;
  wheels: ReactionWheels;
  starTracker: StarTrackerSpec;
  gyro: GyroSpec;
  /** Control period, s: one flight-software cycle. */
  controlPeriod: number;
  /** RK4 steps per control period. */
  substeps: number;
  initialAttitude: Quat;
  /** Initial body rate, rad/s (a tumble after separation, say). */
  initialRate: Vec3;
  initialWheelMomentum: Vec3;
  /** Commanded attitude, inertial to body, held for the whole mission. */
  targetAttitude: Quat;
  /** Largest pointing error allowed once settled, degrees. */
  pointingRequirementDeg: number;
  /** Mission time from which the pointing requirement applies, s. */
  settleTime: number;
  /** Mission length, s. */
  duration: number;
}

const DEG = Math.PI / 180;

/** The small satellite of NASA 42's SC_Simple: 100 kg, 0.14 N·m / 50 N·m·s wheels. */
export function referenceScenario(): Scenario {
  // The manoeuvre: start 30° off the inertial axes, slew 90° about a skewed axis (so all three wheels
  // work and no single axis sets the pace) while recovering from a small tumble.
  const initialAttitude = fromAxisAngle([0.3, -0.2, 0.9], 30 * DEG);
  const slew = fromAxisAngle([1, -2, 1.5], 90 * DEG);
  return {
    name: 'reference',
    massKg: 100,
    inertia: [100, 200, 300],
    wheels: { maxTorque: 0.14, maxMomentum: 50, wheelInertia: 0.012 },
    starTracker: { noiseArcsec: [2, 2, 20] },
    gyro: { noiseSigma: 1e-5, biasSigma: 5e-6 },
    controlPeriod: 0.1,
    substeps: 10,
    initialAttitude,
    initialRate: [0.01, -0.005, 0.008],
    initialWheelMomentum: [0, 0, 0],
    targetAttitude: multiply(initialAttitude, slew),
    pointingRequirementDeg: 0.05,
    // The reference flight software (assembly/) holds 0.05° from about 165 s on (rate damping ~15 s,
    // slew, settling): 300 s leaves it nearly a factor of two.
    settleTime: 300,
    duration: 600,
  };
}

/** Basilisk's larger spacecraft: 750 kg, Honeywell HR16 wheels (0.2 N·m, 50 N·m·s), same sensors. */
export function largeScenario(): Scenario {
  return {
    ...referenceScenario(),
    name: 'large',
    massKg: 750,
    inertia: [900, 800, 600],
    // HR16: 50 N·m·s at 6000 rpm, so a rotor inertia of 50 / (6000 · 2π / 60).
    wheels: { maxTorque: 0.2, maxMomentum: 50, wheelInertia: 50 / ((6000 * 2 * Math.PI) / 60) },
    // The same flight software, tuned for the small satellite, is slower here (it assumes the small
    // inertia): within 0.05° from about 245 s on; 450 s leaves it a factor of 1.8.
    settleTime: 450,
    duration: 900,
  };
}

/** The first cycle after which (at whose end) the pointing requirement applies. */
export function firstSettledCycle(scenario: Pick<Scenario, 'settleTime' | 'controlPeriod'>): number {
  return Math.ceil(scenario.settleTime / scenario.controlPeriod) - 1;
}

/** Whether the pointing requirement applies after `cycle` (the spacecraft's state at its end). */
export function settledAfter(cycle: number, scenario: Pick<Scenario, 'settleTime' | 'controlPeriod'>): boolean {
  return cycle >= firstSettledCycle(scenario);
}

/** A pointing error, asked only whether it exceeds a limit (which can be cheaper than its value). */
export interface PointingError {
  pointingErrorExceeds(limitDeg: number): boolean;
}

/** Whether the pointing error after `cycle` breaks the requirement (before settling nothing does). */
export function breaksPointing(cycle: number, pointing: PointingError, scenario: Pick<Scenario, 'settleTime' | 'controlPeriod' | 'pointingRequirementDeg'>): boolean {
  return settledAfter(cycle, scenario) && pointing.pointingErrorExceeds(scenario.pointingRequirementDeg);
}
