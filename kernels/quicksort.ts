// Benchmark kernel: quicksort of 256 i32 values, iterative with an explicit, bounded stack in memory.
//
// Each cycle fills the array from the data generator seeded with the cycle number (the generator's
// words as signed 32-bit values), sorts it ascending, and writes, each as an unsigned 32-bit integer:
//   torque_x  position-weighted checksum, Σ a[i] · (i + 1) (mod 2^32): sensitive to order
//   torque_y  sum, Σ a[i] (mod 2^32): the same whatever the order, so the values survived the sort
//   torque_z  the median, a[128]
//   mode      1 when the array is sorted (a[i] <= a[i + 1] for every i), else 0
//
// The sort: Hoare partitioning around the median of the first, middle and last element; the larger
// part is pushed, the smaller sorted next, so the stack never holds more than log2(256) = 8 ranges;
// ranges of at most CUTOFF elements are finished by insertion sort. The stack holds the pending ranges'
// bounds as addresses; an overflow (only an upset can cause one) traps. Memory is static: the array and
// the stack at fixed addresses.

import { cycleNumber, next, output, seed } from './common';

const N = 256;
const SALT: u32 = 0x71736f72; // "qsor"
const CUTOFF = 8;
const STACK_RANGES = 16;

const ARRAY: usize = memory.data(N * 4, 16);
const STACK: usize = memory.data(STACK_RANGES * 8, 16);

// The sort works on addresses: lo and hi are the addresses of the first and last element of a range
// (4 bytes apart per element), as a C quicksort on pointers would.

// @ts-ignore: decorator
@inline
function swap(p: usize, q: usize): void {
  const t = load<i32>(p);
  store<i32>(p, load<i32>(q));
  store<i32>(q, t);
}

function insertionSort(lo: usize, hi: usize): void {
  for (let p = lo + 4; p <= hi; p += 4) {
    const value = load<i32>(p);
    let q = p;
    while (q > lo) {
      const previous = load<i32>(q - 4);
      if (previous <= value) break;
      store<i32>(q, previous);
      q -= 4;
    }
    store<i32>(q, value);
  }
}

/**
 * Partitions the range lo..hi (at least three elements) into lo..p <= p + 4..hi; returns p, lo <= p < hi.
 */
function partition(lo: usize, hi: usize): usize {
  const mid = lo + (((hi - lo) >> 3) << 2);
  if (load<i32>(mid) < load<i32>(lo)) swap(mid, lo);
  if (load<i32>(hi) < load<i32>(lo)) swap(hi, lo);
  if (load<i32>(hi) < load<i32>(mid)) swap(hi, mid);
  const pivot = load<i32>(mid);
  let i = lo - 4;
  let j = hi + 4;
  while (true) {
    do i += 4;
    while (load<i32>(i) < pivot);
    do j -= 4;
    while (load<i32>(j) > pivot);
    if (i >= j) return j;
    swap(i, j);
  }
}

function quicksort(): void {
  let depth = 0;
  let lo = ARRAY;
  let hi = ARRAY + (N - 1) * 4;
  while (true) {
    while (hi - lo >= <usize>(CUTOFF * 4)) {
      const p = partition(lo, hi);
      if (depth >= STACK_RANGES) unreachable();
      const slot = STACK + (<usize>depth << 3);
      if (p - lo < hi - p) {
        store<u32>(slot, p + 4);
        store<u32>(slot, hi, 4);
        hi = p;
      } else {
        store<u32>(slot, lo);
        store<u32>(slot, p, 4);
        lo = p + 4;
      }
      depth++;
    }
    insertionSort(lo, hi);
    if (depth == 0) return;
    depth--;
    const slot = STACK + (<usize>depth << 3);
    lo = load<u32>(slot);
    hi = load<u32>(slot, 4);
  }
}

// @ts-ignore: decorator
@inline
function get(index: i32): i32 {
  return load<i32>(ARRAY + (<usize>index << 2));
}

export function init(): void {
  for (let i = 0; i < N; i++) store<i32>(ARRAY + (<usize>i << 2), 0);
  for (let i = 0; i < STACK_RANGES * 2; i++) store<i32>(STACK + (<usize>i << 2), 0);
}

export function step(): void {
  let state = seed(cycleNumber(), SALT);
  for (let i = 0; i < N; i++) {
    state = next(state);
    store<i32>(ARRAY + (<usize>i << 2), <i32>state);
  }

  quicksort();

  let weighted: u32 = 0;
  let total: u32 = 0;
  let sorted: u32 = 1;
  let previous = get(0);
  for (let i = 0; i < N; i++) {
    const value = get(i);
    weighted += <u32>value * <u32>(i + 1);
    total += <u32>value;
    if (previous > value) sorted = 0;
    previous = value;
  }
  output(weighted, total, <u32>get(N / 2), sorted);
}
