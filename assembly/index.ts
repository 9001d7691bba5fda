// Attitude determination and control software of the small satellite: the module's entry point.
//
// Exports exactly the ABI (docs/abi.md): `init` at boot, `step` once per control
// cycle, the memory, and the optional persistent region (persistence.ts). A cycle reads the latched bus inputs, brings the attitude estimate up to this
// cycle and corrects it with the star tracker, picks the mode, then computes and writes the wheel torque
// and the mode, and publishes the estimator's debug outputs (debug.ts). Nothing is allocated; all state
// lives at fixed addresses (state.ts), and the only imports are bus channels and debug outputs.

import * as bus from './bus';
import * as debug from './debug';
import { limitTorque, pointingTorque, rateDampingTorque } from './controller';
import { acquireAttitude, estimateBodyRate, innovationAngle, propagate, resetEstimator, updateWithStarTracker } from './estimator';
import { POINTING, RATE_DAMPING, selectMode } from './modes';
import { persist, persistentLength, persistentOffset, restorePersisted } from './persistence';
import { setQuaternion, setVector } from './quaternion';
import { gyro, gyroBias, measured, status, target, torque, wheelMomentum } from './state';

export function init(): void {
  resetEstimator();
  status.mode = RATE_DAMPING;
  restorePersisted();
}

/** The persistent region: its offset and length in memory, constants (docs/abi.md). */
export function persistent_offset(): i32 {
  return persistentOffset();
}

export function persistent_length(): i32 {
  return persistentLength();
}

export function step(): void {
  setVector(gyro, bus.gyroX(), bus.gyroY(), bus.gyroZ());
  if (status.attitudeAcquired) propagate(bus.dt());

  if (bus.starValid() == 1) {
    setQuaternion(measured, bus.starQx(), bus.starQy(), bus.starQz(), bus.starQw());
    // A solution that is not a unit quaternion is corrupt: use it and the estimate is lost.
    const normSquared = measured.x * measured.x + measured.y * measured.y + measured.z * measured.z + measured.w * measured.w;
    if (abs(normSquared - 1) < 1e-3) {
      if (status.attitudeAcquired) {
        updateWithStarTracker(measured);
        debug.starInnovation(innovationAngle());
      } else acquireAttitude(measured);
    }
  }
  estimateBodyRate();
  setVector(wheelMomentum, bus.wheelHx(), bus.wheelHy(), bus.wheelHz());
  setQuaternion(target, bus.targetQx(), bus.targetQy(), bus.targetQz(), bus.targetQw());

  selectMode();
  if (status.mode == POINTING) pointingTorque();
  else rateDampingTorque();
  limitTorque();
  bus.torqueX(torque.x);
  bus.torqueY(torque.y);
  bus.torqueZ(torque.z);
  bus.mode(<f64>status.mode);
  debug.gyroBiasX(gyroBias.x);
  debug.gyroBiasY(gyroBias.y);
  debug.gyroBiasZ(gyroBias.z);
  persist();
}

// Replaces AssemblyScript's default abort, an import from "env", so the module imports nothing but the
// bus (asconfig.json: --use abort=assembly/index/abort). A failed check traps: the core crashes, which
// the lock-step comparator and the spare handle.
function abort(message: usize, fileName: usize, line: u32, column: u32): void {
  unreachable();
}
