// The memory limit: a core whose memory grows past memoryLimitPages has failed like a trapped one (its
// state would no longer fit the checkpoint), and a module that starts above the limit is refused.
import { describe, expect, it } from 'vitest';
import { FlightModule } from '../src/core/flight-module.js';
import { ModuleError } from '../src/passes/index.js';
import { fly, memoryUpset, setupFor, wat } from './support.js';

/** Grows its memory by one page, once, in the cycle after address 0 becomes nonzero. */
const GROWER = `(module
  (import "bus" "gyro_x" (func $gyro_x (result f64)))
  (import "bus" "torque_x" (func $torque_x (param f64)))
  (memory (export "memory") 1)
  (func (export "init"))
  (func (export "step")
    (if (i32.load8_u (i32.const 0))
      (then (drop (memory.grow (i32.const 1))) (i32.store8 (i32.const 0) (i32.const 0))))
    (call $torque_x (call $gyro_x))))`;

describe('memory limit', () => {
  it('a core that grows past the limit is detected as a memory-limit trap and the spare takes over', () => {
    const module = FlightModule.fromBytes(wat(GROWER), 'grower.wat');
    const setup = setupFor({ duration: 5, memoryLimitPages: 1 }, module);
    const faultFree = fly(setup, []).result;
    const { result } = fly(setup, [memoryUpset(10, 'A', 0, 0)]);
    expect(result.detections.trap).toBe(1);
    expect(result.events.find((event) => event.kind === 'detection')?.detail).toMatch(/memory-limit/);
    expect(result.failovers).toBe(1);
    expect(result.commandDigest).toBe(faultFree.commandDigest);
  });

  it('growth within the limit is no fault', () => {
    const module = FlightModule.fromBytes(wat(GROWER), 'grower.wat');
    const setup = setupFor({ duration: 5, memoryLimitPages: 4 }, module);
    const { result } = fly(setup, [memoryUpset(10, 'A', 0, 0), memoryUpset(10, 'B', 0, 0)]);
    expect(result.detections).toEqual({ mismatch: 0, trap: 0, watchdog: 0, check: 0, abort: 0 });
  });

  it('a module whose initial memory exceeds the limit is refused, naming memoryLimitPages', () => {
    const module = FlightModule.fromBytes(wat(GROWER.replace('(memory (export "memory") 1)', '(memory (export "memory") 3)')), 'big.wat');
    const setup = setupFor({ duration: 1, memoryLimitPages: 2 }, module);
    expect(() => fly(setup, [])).toThrow(ModuleError);
    expect(() => fly(setup, [])).toThrow(/memoryLimitPages/);
  });
});
