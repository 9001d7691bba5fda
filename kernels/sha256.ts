// Benchmark kernel: SHA-256 (FIPS 180-4) of a 256-byte message.
//
// Each cycle fills the message from the data generator seeded with the cycle number (64 generator
// words, stored little-endian), hashes it — four message blocks and the padding block — and writes the
// 256-bit digest H0..H7, folded to the four output channels, each an unsigned 32-bit integer:
//   torque_x  H0 ^ H4    torque_y  H1 ^ H5    torque_z  H2 ^ H6    mode  H3 ^ H7
// (four channels of 32 bits cannot carry 256; folded, every digest bit still reaches exactly one output
// bit). The digest itself stays in memory at DIGEST. Memory is static: the round constants, the message,
// the padding block, the message schedule and the digest at fixed addresses.

import { cycleNumber, next, output, seed } from './common';

const SALT: u32 = 0x73686132; // "sha2"
const MESSAGE_BYTES = 256;
const BLOCK_BYTES = 64;

/** The round constants (FIPS 180-4, 4.2.2): static data, like a C implementation's read-only table. */
const K: usize = memory.data<u32>([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const MESSAGE: usize = memory.data(MESSAGE_BYTES, 16);
const PADDING: usize = memory.data(BLOCK_BYTES, 16);
const W: usize = memory.data(64 * 4, 16);
const DIGEST: usize = memory.data(8 * 4, 16);

// @ts-ignore: decorator
@inline
function k(round: i32): u32 {
  return load<u32>(K + (<usize>round << 2));
}

// @ts-ignore: decorator
@inline
function w(index: i32): u32 {
  return load<u32>(W + (<usize>index << 2));
}

// @ts-ignore: decorator
@inline
function h(index: i32): u32 {
  return load<u32>(DIGEST + (<usize>index << 2));
}

export function init(): void {
  for (let i = 0; i < MESSAGE_BYTES; i += 4) store<u32>(MESSAGE + <usize>i, 0);
  for (let i = 0; i < 64; i++) store<u32>(W + (<usize>i << 2), 0);
  for (let i = 0; i < 8; i++) store<u32>(DIGEST + (<usize>i << 2), 0);
}

/** Runs the compression function on the 64-byte block at `block` (big-endian words), updating DIGEST. */
function compress(block: usize): void {
  for (let i = 0; i < 16; i++) store<u32>(W + (<usize>i << 2), bswap<u32>(load<u32>(block + (<usize>i << 2))));
  for (let i = 16; i < 64; i++) {
    const w15 = w(i - 15);
    const w2 = w(i - 2);
    const s0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >>> 3);
    const s1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >>> 10);
    store<u32>(W + (<usize>i << 2), w(i - 16) + s0 + w(i - 7) + s1);
  }
  let a = h(0);
  let b = h(1);
  let c = h(2);
  let d = h(3);
  let e = h(4);
  let f = h(5);
  let g = h(6);
  let hh = h(7);
  for (let i = 0; i < 64; i++) {
    const S1 = rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25);
    const choice = (e & f) ^ (~e & g);
    const t1 = hh + S1 + choice + k(i) + w(i);
    const S0 = rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22);
    const majority = (a & b) ^ (a & c) ^ (b & c);
    const t2 = S0 + majority;
    hh = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  store<u32>(DIGEST, h(0) + a);
  store<u32>(DIGEST, h(1) + b, 4);
  store<u32>(DIGEST, h(2) + c, 8);
  store<u32>(DIGEST, h(3) + d, 12);
  store<u32>(DIGEST, h(4) + e, 16);
  store<u32>(DIGEST, h(5) + f, 20);
  store<u32>(DIGEST, h(6) + g, 24);
  store<u32>(DIGEST, h(7) + hh, 28);
}

export function step(): void {
  let state = seed(cycleNumber(), SALT);
  for (let i = 0; i < MESSAGE_BYTES; i += 4) {
    state = next(state);
    store<u32>(MESSAGE + <usize>i, state);
  }
  // The padding block of a 256-byte message: 0x80, zeros, the length in bits (2048) big-endian.
  store<u32>(PADDING, 0x80);
  for (let i = 4; i < BLOCK_BYTES - 4; i += 4) store<u32>(PADDING + <usize>i, 0);
  store<u32>(PADDING + BLOCK_BYTES - 4, bswap<u32>(<u32>MESSAGE_BYTES * 8));

  store<u32>(DIGEST, 0x6a09e667);
  store<u32>(DIGEST, 0xbb67ae85, 4);
  store<u32>(DIGEST, 0x3c6ef372, 8);
  store<u32>(DIGEST, 0xa54ff53a, 12);
  store<u32>(DIGEST, 0x510e527f, 16);
  store<u32>(DIGEST, 0x9b05688c, 20);
  store<u32>(DIGEST, 0x1f83d9ab, 24);
  store<u32>(DIGEST, 0x5be0cd19, 28);
  for (let block = 0; block < MESSAGE_BYTES; block += BLOCK_BYTES) compress(MESSAGE + <usize>block);
  compress(PADDING);

  output(h(0) ^ h(4), h(1) ^ h(5), h(2) ^ h(6), h(3) ^ h(7));
}
