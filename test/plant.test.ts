import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IN, INPUT_CHANNELS, OUT, OUTPUT_CHANNELS } from '../src/abi/channels.js';
import { SeededRandom } from '../src/random.js';
import { OMEGA, Q, STATE_LENGTH, WHEEL_H, limitTorque, propagate } from '../src/plant/dynamics.js';
import {
  angleBetweenDeg,
  angleExceedsDeg,
  conjugate,
  fromAxisAngle,
  fromRotationVector,
  identity,
  multiply,
  norm,
  normalize,
  rotate,
  type Quat,
  type Vec3,
} from '../src/plant/quaternion.js';
import { largeScenario, referenceScenario } from '../src/plant/scenario.js';
import { ARCSEC, drawSensorNoise, NOISE_VALUES, noisyAttitude, noisyRate } from '../src/plant/sensors.js';
import { createSpacecraft } from '../src/plant/spacecraft.js';

const DEG = Math.PI / 180;

const component = fc.double({ min: -1, max: 1, noNaN: true });
const vec3 = (scale: number) => fc.tuple(component, component, component).map(([x, y, z]): Vec3 => [x * scale, y * scale, z * scale]);
const unitQuat = fc
  .tuple(component, component, component, component)
  .filter((q) => Math.hypot(...q) > 0.1)
  .map((q): Quat => normalize(q));

function stateOf(q: Quat, omega: Vec3, wheelH: Vec3): Float64Array {
  const state = new Float64Array(STATE_LENGTH);
  state.set(q, Q);
  state.set(omega, OMEGA);
  state.set(wheelH, WHEEL_H);
  return state;
}

/** Total angular momentum in inertial axes: body momentum J ω + h_w carried out of the body frame by q. */
function inertialMomentum(state: Float64Array, inertia: Vec3): Vec3 {
  const q: Quat = [state[Q], state[Q + 1], state[Q + 2], state[Q + 3]];
  const body: Vec3 = [0, 1, 2].map((i) => inertia[i] * state[OMEGA + i] + state[WHEEL_H + i]) as Vec3;
  return rotate(q, body);
}

function kineticEnergy(state: Float64Array, inertia: Vec3): number {
  return 0.5 * [0, 1, 2].reduce((sum, i) => sum + inertia[i] * state[OMEGA + i] ** 2, 0);
}

describe('quaternion', () => {
  it('pointing error: identical attitudes 0, a 90° rotation 90, the same attitude with the other sign 0', () => {
    fc.assert(
      fc.property(unitQuat, vec3(1).filter((v) => Math.hypot(...v) > 0.1), (q, axis) => {
        expect(angleBetweenDeg(q, q)).toBe(0);
        expect(angleBetweenDeg(q, [-q[0], -q[1], -q[2], -q[3]])).toBe(0);
        expect(angleBetweenDeg(q, multiply(q, fromAxisAngle(axis, 90 * DEG)))).toBeCloseTo(90, 9);
        expect(angleBetweenDeg(q, multiply(q, fromAxisAngle(axis, 270 * DEG)))).toBeCloseTo(90, 9);
      }),
    );
  });

  it('pointing error keeps its precision for tiny angles', () => {
    expect(angleBetweenDeg(identity(), fromAxisAngle([0, 0, 1], 1e-9))).toBeCloseTo(1e-9 / DEG, 20);
  });

  it('whether the pointing error exceeds a limit is exactly the comparison of its angle, at the limit too', () => {
    const limit = fc.oneof(fc.double({ min: 1e-6, max: 179, noNaN: true }), fc.constantFrom(0, -1, 0.05));
    // Errors of every size and, above all, a hair either side of the limit (relative steps down to 1e-16).
    const relative = fc.oneof(fc.double({ min: 0, max: 3, noNaN: true }), fc.double({ min: -1e-5, max: 1e-5, noNaN: true }).map((d) => 1 + d), fc.integer({ min: -8, max: 8 }).map((k) => 1 + k * 2 ** -52));
    fc.assert(
      fc.property(unitQuat, vec3(1).filter((v) => Math.hypot(...v) > 0.1), limit, relative, fc.boolean(), (target, axis, limitDeg, scale, flip) => {
        let q = multiply(target, fromAxisAngle(axis, Math.abs(limitDeg) * scale * DEG));
        if (flip) q = [-q[0], -q[1], -q[2], -q[3]];
        expect(angleExceedsDeg(target, q, limitDeg)).toBe(angleBetweenDeg(target, q) > limitDeg);
      }),
      { numRuns: 3000 },
    );
  });

  it('rotation preserves length and undoes with the conjugate', () => {
    fc.assert(
      fc.property(unitQuat, vec3(10), (q, v) => {
        const turned = rotate(q, v);
        expect(Math.hypot(...turned)).toBeCloseTo(Math.hypot(...v), 12);
        rotate(conjugate(q), turned).forEach((x, i) => expect(x).toBeCloseTo(v[i], 12));
      }),
    );
  });

  it('the product composes rotations: rotate(a ⊗ b, v) = rotate(a, rotate(b, v))', () => {
    fc.assert(
      fc.property(unitQuat, unitQuat, vec3(1), (a, b, v) => {
        const composed = rotate(multiply(a, b), v);
        rotate(a, rotate(b, v)).forEach((x, i) => expect(composed[i]).toBeCloseTo(x, 12));
      }),
    );
  });

  it('a rotation vector is an axis times an angle', () => {
    fc.assert(
      fc.property(vec3(1).filter((v) => Math.hypot(...v) > 1e-3), (axis) => {
        const angle = Math.hypot(...axis);
        const fromVector = fromRotationVector(axis);
        fromAxisAngle(axis, angle).forEach((x, i) => expect(fromVector[i]).toBeCloseTo(x, 15));
      }),
    );
    expect(fromRotationVector([0, 0, 0])).toEqual([0, 0, 0, 1]);
    fromAxisAngle([0, 0, 2], Math.PI / 2).forEach((x, i) => expect(x).toBeCloseTo([0, 0, Math.SQRT1_2, Math.SQRT1_2][i], 15));
  });
});


/** The textbook: the equations of motion as a function of a packed state, stepped by RK4 over typed arrays. */
function textbookPropagate(state: Float64Array, torque: Vec3, inertia: Vec3, period: number, substeps: number): void {
  const derivative = (s: Float64Array, out: Float64Array): void => {
    const [qx, qy, qz, qw] = [s[Q], s[Q + 1], s[Q + 2], s[Q + 3]];
    const [wx, wy, wz] = [s[OMEGA], s[OMEGA + 1], s[OMEGA + 2]];
    const [hx, hy, hz] = [inertia[0] * wx + s[WHEEL_H], inertia[1] * wy + s[WHEEL_H + 1], inertia[2] * wz + s[WHEEL_H + 2]];
    out[Q] = 0.5 * (qw * wx + qy * wz - qz * wy);
    out[Q + 1] = 0.5 * (qw * wy + qz * wx - qx * wz);
    out[Q + 2] = 0.5 * (qw * wz + qx * wy - qy * wx);
    out[Q + 3] = -0.5 * (qx * wx + qy * wy + qz * wz);
    out[OMEGA] = (torque[0] - (wy * hz - wz * hy)) / inertia[0];
    out[OMEGA + 1] = (torque[1] - (wz * hx - wx * hz)) / inertia[1];
    out[OMEGA + 2] = (torque[2] - (wx * hy - wy * hx)) / inertia[2];
    for (let axis = 0; axis < 3; axis++) out[WHEEL_H + axis] = -torque[axis];
  };
  const [k1, k2, k3, k4, stage] = Array.from({ length: 5 }, () => new Float64Array(STATE_LENGTH));
  const setStage = (k: Float64Array, c: number) => state.forEach((x, i) => (stage[i] = x + c * k[i]));
  const h = period / substeps;
  for (let step = 0; step < substeps; step++) {
    derivative(state, k1);
    setStage(k1, h / 2);
    derivative(stage, k2);
    setStage(k2, h / 2);
    derivative(stage, k3);
    setStage(k3, h);
    derivative(stage, k4);
    for (let i = 0; i < STATE_LENGTH; i++) state[i] += (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    const n = Math.sqrt(state[Q] * state[Q] + state[Q + 1] * state[Q + 1] + state[Q + 2] * state[Q + 2] + state[Q + 3] * state[Q + 3]);
    for (let i = Q; i < Q + 4; i++) state[i] /= n;
  }
}

describe('dynamics', () => {
  const { inertia } = referenceScenario();

  it('propagate is the textbook RK4, bit for bit, over any state, torque and step count', () => {
    const torque = fc.oneof(vec3(0.2), fc.constant<Vec3>([0, -0, 0]));
    fc.assert(
      fc.property(unitQuat, vec3(0.05), vec3(50), torque, fc.integer({ min: 1, max: 12 }), (q, omega, wheelH, applied, substeps) => {
        const fast = stateOf(q, omega, wheelH);
        const textbook = fast.slice();
        propagate(fast, applied, inertia, 0.1, substeps);
        textbookPropagate(textbook, applied, inertia, 0.1, substeps);
        expect([...fast].map((x) => Object.is(x, -0) ? '-0' : x)).toEqual([...textbook].map((x) => Object.is(x, -0) ? '-0' : x));
      }),
      { numRuns: 2000 },
    );
  });

  it('without torque, conserves inertial angular momentum and kinetic energy over 100 s; q stays unit', () => {
    fc.assert(
      fc.property(unitQuat, vec3(0.05), vec3(20), (q, omega, wheelH) => {
        const state = stateOf(q, omega, wheelH);
        const momentum0 = inertialMomentum(state, inertia);
        const energy0 = kineticEnergy(state, inertia);
        for (let period = 0; period < 1000; period++) propagate(state, [0, 0, 0], inertia, 0.1, 10);

        const momentum = inertialMomentum(state, inertia);
        const size = Math.hypot(...momentum0);
        expect(Math.hypot(...momentum.map((x, i) => x - momentum0[i]))).toBeLessThan(1e-9 * size);
        expect(Math.abs(kineticEnergy(state, inertia) - energy0)).toBeLessThanOrEqual(1e-9 * energy0);
        expect(Math.abs(Math.hypot(state[Q], state[Q + 1], state[Q + 2], state[Q + 3]) - 1)).toBeLessThan(1e-15);
      }),
      { numRuns: 20 },
    );
  });

  it('kinematics: a constant rate about body z turns q by ω t about z (q̇ = ½ q ⊗ ω)', () => {
    const q0 = fromAxisAngle([1, 2, 3], 0.7);
    const state = stateOf(q0, [0, 0, 0.01], [0, 0, 0]);
    for (let period = 0; period < 100; period++) propagate(state, [0, 0, 0], inertia, 0.1, 10);
    const expected = multiply(q0, fromAxisAngle([0, 0, 1], 0.1));
    expected.forEach((x, i) => expect(state[Q + i]).toBeCloseTo(x, 12));
  });

  it('torque spins the body up and the wheel down by the same momentum', () => {
    const state = stateOf(identity(), [0, 0, 0], [0, 0, 0]);
    propagate(state, [0.1, 0, 0], inertia, 2, 10);
    expect(state[OMEGA]).toBeCloseTo((0.1 * 2) / inertia[0], 15);
    expect(state[WHEEL_H]).toBeCloseTo(-0.2, 15);
  });

  it('clips torque per axis to the wheel torque limit and rejects a non-finite command', () => {
    const applied = new Float64Array(3);
    const { wheels } = referenceScenario();
    limitTorque([1, -1, 0.05], [0, 0, 0], wheels, 0.1, applied);
    expect([...applied]).toEqual([0.14, -0.14, 0.05]);
    limitTorque([NaN, Infinity, -Infinity], [0, 0, 0], wheels, 0.1, applied);
    expect([...applied]).toEqual([0, 0, 0]);
  });

  it('a saturated wheel cannot be spun faster, only slower; one near its limit stops exactly at it', () => {
    const applied = new Float64Array(3);
    const { wheels } = referenceScenario();
    // h_w changes by −torque: at +50, negative torque spins up (refused), positive slows down.
    limitTorque([-0.1, 0.1, -0.1], [50, 50, -50], wheels, 0.1, applied);
    expect([...applied]).toEqual([0, 0.1, -0.1]);
    limitTorque([-0.14, 0, 0], [49.995, 0, 0], wheels, 0.1, applied);
    expect(applied[0]).toBeCloseTo(-0.05, 12);
  });

  it('wheel momentum never exceeds its limit under any command sequence', () => {
    const { wheels } = referenceScenario();
    fc.assert(
      fc.property(fc.array(vec3(0.5), { minLength: 50, maxLength: 50 }), vec3(49.9), (commands, wheelH) => {
        const state = stateOf(identity(), [0, 0, 0], wheelH);
        const applied = new Float64Array(3);
        for (const command of commands) {
          for (let repeat = 0; repeat < 20; repeat++) {
            limitTorque(command, state.subarray(WHEEL_H, WHEEL_H + 3), wheels, 0.1, applied);
            propagate(state, applied, inertia, 0.1, 1);
            for (let axis = 0; axis < 3; axis++) {
              expect(Math.abs(state[WHEEL_H + axis])).toBeLessThanOrEqual(wheels.maxMomentum + 1e-12);
              expect(Math.abs(applied[axis])).toBeLessThanOrEqual(wheels.maxTorque);
            }
          }
        }
      }),
      { numRuns: 20 },
    );
  });
});

describe('sensors', () => {
  const scenario = referenceScenario();
  const noise = new Float64Array(NOISE_VALUES);

  it('star tracker noise about each body axis matches the configured 1σ', () => {
    const random = new SeededRandom(7, 'test');
    const q = fromAxisAngle([1, -1, 2], 1.2);
    const samples = 20000;
    const sumSquares = [0, 0, 0];
    for (let i = 0; i < samples; i++) {
      drawSensorNoise(scenario.gyro, scenario.starTracker, random, noise);
      const [x, y, z, w] = multiply(conjugate(q), noisyAttitude(q, noise, 0, [0, 0, 0, 0]));
      [x, y, z].forEach((v, axis) => (sumSquares[axis] += (2 * Math.sign(w) * v) ** 2));
    }
    sumSquares.forEach((sum, axis) => {
      const sigmaArcsec = Math.sqrt(sum / samples) / ARCSEC;
      // The standard error of a 1σ estimate from 20,000 samples is 0.5%.
      expect(sigmaArcsec / scenario.starTracker.noiseArcsec[axis]).toBeGreaterThan(0.97);
      expect(sigmaArcsec / scenario.starTracker.noiseArcsec[axis]).toBeLessThan(1.03);
    });
  });

  it('gyro reads the true rate plus its bias plus white noise of the configured 1σ', () => {
    const random = new SeededRandom(8, 'test');
    const omega: Vec3 = [0.01, -0.02, 0.03];
    const bias: Vec3 = [1e-5, -2e-5, 3e-5];
    const samples = 20000;
    const sum = [0, 0, 0];
    const sumSquares = [0, 0, 0];
    for (let i = 0; i < samples; i++) {
      drawSensorNoise(scenario.gyro, scenario.starTracker, random, noise);
      noisyRate(omega, bias, noise, 0, [0, 0, 0]).forEach((value, axis) => {
        const error = value - omega[axis] - bias[axis];
        sum[axis] += error;
        sumSquares[axis] += error ** 2;
      });
    }
    for (let axis = 0; axis < 3; axis++) {
      expect(Math.abs(sum[axis] / samples)).toBeLessThan((4 * scenario.gyro.noiseSigma) / Math.sqrt(samples));
      expect(Math.sqrt(sumSquares[axis] / samples) / scenario.gyro.noiseSigma).toBeCloseTo(1, 1);
    }
  });
});

describe('spacecraft', () => {
  /** Run `cycles` cycles with a fixed sequence of commands; the input frames and the final state. */
  function run(seed: number, cycles: number) {
    const scenario = referenceScenario();
    const sc = createSpacecraft(scenario, seed);
    const inputs: number[][] = [];
    const input = new Float64Array(INPUT_CHANNELS.length);
    const output = new Float64Array(OUTPUT_CHANNELS.length);
    for (let cycle = 0; cycle < cycles; cycle++) {
      sc.sense(cycle * scenario.controlPeriod, input);
      inputs.push([...input]);
      output[OUT.torque_x] = 0.1 * Math.sin(cycle);
      output[OUT.torque_y] = -0.05;
      output[OUT.torque_z] = 0.2 * Math.cos(cycle / 3);
      sc.actuate(output);
      sc.advance();
    }
    return { inputs, state: sc.state, gyroBias: sc.gyroBias };
  }

  it('fills every input channel', () => {
    const scenario = referenceScenario();
    const sc = createSpacecraft(scenario, 1);
    const input = new Float64Array(INPUT_CHANNELS.length).fill(NaN);
    sc.sense(12.5, input);
    expect(input.every(Number.isFinite)).toBe(true);
    expect(input[IN.time]).toBe(12.5);
    expect(input[IN.dt]).toBe(scenario.controlPeriod);
    expect(input[IN.star_valid]).toBe(1);
    const star: Quat = [input[IN.star_qx], input[IN.star_qy], input[IN.star_qz], input[IN.star_qw]];
    expect(norm(star)).toBeCloseTo(1, 14);
    expect(angleBetweenDeg(star, scenario.initialAttitude)).toBeLessThan(0.01);
    expect([input[IN.target_qx], input[IN.target_qy], input[IN.target_qz], input[IN.target_qw]]).toEqual(scenario.targetAttitude);
  });

  it('the same seed and commands give bit-identical sensor streams and states', () => {
    const first = run(42, 200);
    const second = run(42, 200);
    expect(second.inputs).toEqual(first.inputs);
    expect(second.state).toEqual(first.state);
    for (const [index, frame] of first.inputs.entries()) {
      frame.forEach((value, channel) => expect(Object.is(value, second.inputs[index][channel])).toBe(true));
    }
  });

  it('another trajectory flown on a recorded run\'s noise reads exactly what drawing it would have read', () => {
    // The campaign's pointing watch relies on this: the noise is the same draws whatever the trajectory.
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.array(fc.double({ min: -0.3, max: 0.3, noNaN: true }), { minLength: 3, maxLength: 3 }), (seed, torque) => {
        const scenario = referenceScenario();
        const cycles = 30;
        const recorder = createSpacecraft(scenario, seed);
        const drawing = createSpacecraft(scenario, seed);
        const replaying = createSpacecraft(scenario, seed);
        const frame = new Float64Array(INPUT_CHANNELS.length);
        const drawn = new Float64Array(INPUT_CHANNELS.length);
        const replayed = new Float64Array(INPUT_CHANNELS.length);
        const recorded = new Float64Array(cycles * NOISE_VALUES);
        const quiet = new Float64Array(OUTPUT_CHANNELS.length);
        const wrong = new Float64Array(OUTPUT_CHANNELS.length);
        wrong.set(torque, OUT.torque_x);
        for (let cycle = 0; cycle < cycles; cycle++) {
          recorder.sense(cycle * scenario.controlPeriod, frame);
          recorded.set(recorder.lastNoise, cycle * NOISE_VALUES);
          recorder.actuate(quiet);
          recorder.advance();
          drawing.sense(cycle * scenario.controlPeriod, drawn);
          replaying.senseWithNoise(cycle * scenario.controlPeriod, replayed, recorded, cycle * NOISE_VALUES);
          drawn.forEach((value, channel) => expect(Object.is(replayed[channel], value)).toBe(true));
          for (const sc of [drawing, replaying]) {
            sc.actuate(cycle >= 5 ? wrong : quiet);
            sc.advance();
          }
        }
        expect(replaying.state).toEqual(drawing.state);
      }),
      { numRuns: 40 },
    );
  });

  it('a different seed gives a different sensor stream (and gyro bias)', () => {
    const first = run(42, 5);
    const other = run(43, 5);
    expect(other.gyroBias).not.toEqual(first.gyroBias);
    expect(other.inputs[0][IN.gyro_x]).not.toBe(first.inputs[0][IN.gyro_x]);
    expect(other.inputs[0][IN.star_qx]).not.toBe(first.inputs[0][IN.star_qx]);
  });

  it('applies the released torque within the wheel limits', () => {
    const scenario = referenceScenario();
    const sc = createSpacecraft(scenario, 3);
    const output = new Float64Array(OUTPUT_CHANNELS.length);
    output[OUT.torque_x] = 1;
    output[OUT.torque_z] = -0.1;
    sc.actuate(output);
    sc.advance();
    expect(sc.appliedTorque).toEqual([0.14, 0, -0.1]);
    expect(sc.state.wheelH[0]).toBeCloseTo(-0.014, 15);
  });

  it('reports the pointing error of the true attitude', () => {
    for (const scenario of [referenceScenario(), largeScenario()]) {
      const sc = createSpacecraft(scenario, 1);
      expect(sc.pointingErrorDeg()).toBeCloseTo(angleBetweenDeg(scenario.targetAttitude, scenario.initialAttitude), 12);
      expect(sc.pointingErrorDeg()).toBeCloseTo(90, 9);
    }
  });
});
