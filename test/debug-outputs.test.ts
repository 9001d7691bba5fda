// Debug outputs (docs/abi.md#debug-outputs): imports from module "debug" are outputs the comparator
// checks like the commands — two cores that differ in one alone is a detection — released only when the
// cores agree, held between writes, reaching telemetry and the summary, never an actuator nor the command
// digest; in a campaign a lone core whose debug outputs alone went wrong flies on. A module without them
// flies as before.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlightModule } from '../src/core/flight-module.js';
import { telemetryHeader, telemetryLine } from '../src/reports/telemetry.js';
import { cli } from './harden-support.js';
import { faultyModule, fly, memoryUpset, setupFor, wat } from './support.js';

/**
 * torque_x = −2 · gyro_x, every cycle. Debug output `block_sum`: the sum of the 256 f64 of memory block 0
 * (bytes 0–2047), written on even cycles only (the cycle count at 4096), so that it is held on odd ones;
 * `cycles` every cycle. Memory is read by the debug outputs alone: an upset there changes no command.
 */
const DEBUG_MODULE = `(module
  (import "bus" "gyro_x" (func $gyro_x (result f64)))
  (import "bus" "torque_x" (func $torque_x (param f64)))
  (import "debug" "block_sum" (func $block_sum (param f64)))
  (import "debug" "cycles" (func $cycles (param f64)))
  (memory (export "memory") 1)
  (func (export "init") (f64.store (i32.const 0) (f64.const 1.5)) (i32.store (i32.const 4096) (i32.const 0)))
  (func (export "step")
    (local $address i32) (local $sum f64) (local $count i32)
    (local.set $count (i32.add (i32.load (i32.const 4096)) (i32.const 1)))
    (i32.store (i32.const 4096) (local.get $count))
    (call $torque_x (f64.mul (f64.const -2) (call $gyro_x)))
    (call $cycles (f64.convert_i32_u (local.get $count)))
    (if (i32.and (local.get $count) (i32.const 1)) (then (return)))
    (loop $add
      (local.set $sum (f64.add (local.get $sum) (f64.load (local.get $address))))
      (local.set $address (i32.add (local.get $address) (i32.const 8)))
      (br_if $add (i32.lt_u (local.get $address) (i32.const 2048))))
    (call $block_sum (local.get $sum))))`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-debug-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('debug outputs in flight', () => {
  const module = () => FlightModule.fromBytes(wat(DEBUG_MODULE), 'debug.wat');
  const mission = { duration: 2 };

  it('are released to telemetry by name, held between writes, and summarised; they reach no actuator', () => {
    const { result, rows } = fly(setupFor({ ...mission, duration: 1 }, module()), []);
    expect(module().debugOutputs.map((output) => output.name)).toEqual(['block_sum', 'cycles']);
    expect(rows[0].debug).toEqual({ block_sum: Number.NaN, cycles: 1 });
    expect(rows[1].debug).toEqual({ block_sum: 1.5, cycles: 2 });
    expect(rows[2].debug).toEqual({ block_sum: 1.5, cycles: 3 });
    expect(result.debug).toEqual([
      { name: 'block_sum', released: 5, last: 1.5, min: 1.5, max: 1.5 },
      { name: 'cycles', released: 10, last: 10, min: 1, max: 10 },
    ]);
    expect(telemetryHeader(['block_sum', 'cycles'])).toMatch(/,modelled_ms,debug\.block_sum,debug\.cycles$/);
    expect(telemetryLine(rows[0], ['block_sum', 'cycles'])).toMatch(/,,1$/);
  });

  it('two cores that differ in a debug output alone are a detection (outputs mismatch); the spare recovers and the commands are untouched', () => {
    const clean = fly(setupFor(mission, module()), []);
    const { result } = fly(setupFor(mission, module()), [memoryUpset(6, 'B', 0, 60)]);
    expect(result.detections.mismatch).toBe(1);
    expect(result.detectionsByMismatch).toEqual({ outputs: 1, state: 0 });
    expect(result.failovers).toBe(1);
    expect(result.undetectedDivergences).toBe(0);
    expect(result.commandDigest).toBe(clean.result.commandDigest);
  });

  it('a module without debug outputs flies as before: empty rows, no summary field, the fixed columns only', () => {
    const { result, rows } = fly(setupFor({ duration: 1 }, faultyModule('none')), []);
    expect(rows.every((row) => Object.keys(row.debug).length === 0)).toBe(true);
    expect('debug' in result).toBe(false);
    expect(telemetryHeader([])).toBe('cycle,time_s,pointing_error_deg,torque_x,torque_y,torque_z,mode,released,detection,failover,missed_deadline,modelled_ms');
  });
});

describe('debug outputs in a campaign', () => {
  it('a pair detects a debug-only difference; a lone core whose commands are right is never an sdc', async () => {
    const fsw = join(dir, 'debug.wasm');
    writeFileSync(fsw, wat(DEBUG_MODULE));
    const json = join(dir, 'campaign.json');
    const run = await cli(['campaign', '--fsw', fsw, '--duration', '20', '--experiments', '24', '--targets', 'memory', '--jobs', '1', '--json', json, '--quiet']);
    expect(run.code, run.stderr).toBe(0);
    const { configs } = JSON.parse(readFileSync(json, 'utf8'));
    expect(configs.single.silent.count).toBe(0);
    expect(configs.pair.outcomes.detected.count).toBeGreaterThan(0);
    expect(configs.pair.causes.mismatch).toBe(configs.pair.outcomes.detected.count);
  });
});
