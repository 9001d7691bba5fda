// Benchmark kernel: integer matrix multiplication, C = A × B with 16 × 16 matrices of i32 (wrapping
// arithmetic, as on a 32-bit integer CPU; COAST's matmul is integer too).
//
// Each cycle fills A and B from the data generator seeded with the cycle number (entries are the
// generator's high 16 bits as a signed value, -32768 .. 32767), multiplies, and writes four checksums
// of C, each as an unsigned 32-bit integer:
//   torque_x  sum of all entries (mod 2^32)
//   torque_y  position-weighted sum, Σ C[i][j] · (16 i + j + 1) (mod 2^32): sensitive to order
//   torque_z  trace, Σ C[i][i] (mod 2^32)
//   mode      XOR of all entries
// Memory is static: A, B and C at fixed addresses, row-major.

import { cycleNumber, next, output, seed } from './common';

const N = 16;
const SALT: u32 = 0x6d61746d; // "matm"

const A: usize = memory.data(N * N * 4, 16);
const B: usize = memory.data(N * N * 4, 16);
const C: usize = memory.data(N * N * 4, 16);

// @ts-ignore: decorator
@inline
function at(matrix: usize, row: i32, column: i32): usize {
  return matrix + ((<usize>(row * N + column)) << 2);
}

/**
 * Σ_k row[k] · column[k] over the 16 entries of a row of A (stride 4 bytes) and a column of B (stride
 * 64 bytes), unrolled by hand: the loads take constant offsets and no loop counter is kept. (A rolled
 * k loop, with index arithmetic for every load, made a cycle cost about 163,000 instructions instead of
 * about 51,000.)
 */
// @ts-ignore: decorator
@inline
function dot(row: usize, column: usize): i32 {
  return (
    load<i32>(row, 0) * load<i32>(column, 0) +
    load<i32>(row, 4) * load<i32>(column, 64) +
    load<i32>(row, 8) * load<i32>(column, 128) +
    load<i32>(row, 12) * load<i32>(column, 192) +
    load<i32>(row, 16) * load<i32>(column, 256) +
    load<i32>(row, 20) * load<i32>(column, 320) +
    load<i32>(row, 24) * load<i32>(column, 384) +
    load<i32>(row, 28) * load<i32>(column, 448) +
    load<i32>(row, 32) * load<i32>(column, 512) +
    load<i32>(row, 36) * load<i32>(column, 576) +
    load<i32>(row, 40) * load<i32>(column, 640) +
    load<i32>(row, 44) * load<i32>(column, 704) +
    load<i32>(row, 48) * load<i32>(column, 768) +
    load<i32>(row, 52) * load<i32>(column, 832) +
    load<i32>(row, 56) * load<i32>(column, 896) +
    load<i32>(row, 60) * load<i32>(column, 960)
  );
}

export function init(): void {
  for (let i = 0; i < N * N; i++) {
    store<i32>(A + (<usize>i << 2), 0);
    store<i32>(B + (<usize>i << 2), 0);
    store<i32>(C + (<usize>i << 2), 0);
  }
}

export function step(): void {
  let state = seed(cycleNumber(), SALT);
  for (let i = 0; i < N * N; i++) {
    state = next(state);
    store<i32>(A + (<usize>i << 2), (<i32>(state >>> 16)) - 32768);
  }
  for (let i = 0; i < N * N; i++) {
    state = next(state);
    store<i32>(B + (<usize>i << 2), (<i32>(state >>> 16)) - 32768);
  }

  for (let row = 0; row < N; row++) {
    const rowOfA = at(A, row, 0);
    for (let column = 0; column < N; column++) {
      store<i32>(at(C, row, column), dot(rowOfA, at(B, 0, column)));
    }
  }

  let total: u32 = 0;
  let weighted: u32 = 0;
  let trace: u32 = 0;
  let folded: u32 = 0;
  for (let i = 0; i < N * N; i++) {
    const value = load<u32>(C + (<usize>i << 2));
    total += value;
    weighted += value * <u32>(i + 1);
    folded ^= value;
  }
  for (let i = 0; i < N; i++) trace += load<u32>(at(C, i, i));
  output(total, weighted, trace, folded);
}
