// What the four benchmark kernels share: their bus channels, the cycle number, the data generator, and
// the abort that keeps them free of "env" imports.
//
// A kernel is a complete flight-software module (docs/abi.md) that does one
// classic computation per cycle instead of attitude control, so that lockstep can fly it, inject upsets
// into it and measure detection and overhead on it (issue 4: the kernels COAST reports on). It reads
// only `time` and `dt`, derives the cycle number from them, generates that cycle's input data
// deterministically from the cycle number, computes, and writes four result words to the four output
// channels as exact non-negative integers in f64 (an unsigned 32-bit value, not a bit pattern). The
// spacecraft sees them as torques, which it clips; campaigns judge the outputs against the golden run.

@external("bus", "time") declare function busTime(): f64;
@external("bus", "dt") declare function busDt(): f64;

@external("bus", "torque_x") declare function busTorqueX(value: f64): void;
@external("bus", "torque_y") declare function busTorqueY(value: f64): void;
@external("bus", "torque_z") declare function busTorqueZ(value: f64): void;
@external("bus", "mode") declare function busMode(value: f64): void;

/**
 * The cycle number, round(time / dt): 0 when that is not a number in 0 .. 2^32 - 1 (dt 0 or negative,
 * time negative, NaN), so that no input makes a cycle trap.
 */
export function cycleNumber(): u32 {
  const cycles = busTime() / busDt();
  if (!(cycles >= 0 && cycles < 4294967295.5)) return 0;
  return <u32>Math.floor(cycles + 0.5);
}

/**
 * First state of a cycle's data generator: the cycle number spread by a golden-ratio multiply, with a
 * per-kernel salt so that the kernels see unrelated data.
 */
// @ts-ignore: decorator
@inline
export function seed(cycle: u32, salt: u32): u32 {
  return cycle * 0x9e3779b9 + salt;
}

/**
 * The data generator: a 32-bit linear congruential generator (Numerical Recipes' constants); each new
 * state is the next value (matmul keeps its high 16 bits, whose period is the longest).
 */
// @ts-ignore: decorator
@inline
export function next(state: u32): u32 {
  return state * 1664525 + 1013904223;
}

/** Writes the cycle's four result words, each as the exact unsigned integer it is. */
export function output(x: u32, y: u32, z: u32, mode: u32): void {
  busTorqueX(<f64>x);
  busTorqueY(<f64>y);
  busTorqueZ(<f64>z);
  busMode(<f64>mode);
}

// Replaces AssemblyScript's default abort, an import from "env" (kernels/asconfig.json: --use
// abort=kernels/common/abort): a failed check traps, a crash of that core.
function abort(message: usize, fileName: usize, line: u32, column: u32): void {
  unreachable();
}
