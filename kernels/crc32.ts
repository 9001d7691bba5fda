// Benchmark kernel: CRC-32 (IEEE 802.3: reflected, polynomial 0xEDB88320, initial value and final XOR
// 0xFFFFFFFF), table-driven with the 256-entry table built in init.
//
// Each cycle fills a 1 KiB buffer from the data generator seeded with the cycle number (256 generator
// words, stored little-endian), and writes, each as an unsigned 32-bit integer:
//   torque_x  CRC-32 of the buffer
//   torque_y  CRC-32 of "123456789", the standard check value 0xCBF43926: a self-test of the table
//   torque_z  the cycle number the data was generated from
//   mode      1 when the self-test gave 0xCBF43926, else 0
// Memory is static: the table, the buffer and the check string at fixed addresses.

import { cycleNumber, next, output, seed } from './common';

const SALT: u32 = 0x63726333; // "crc3"
const POLYNOMIAL: u32 = 0xedb88320;
const CHECK_VALUE: u32 = 0xcbf43926;
const BUFFER_BYTES = 1024;

const TABLE: usize = memory.data(256 * 4, 16);
const BUFFER: usize = memory.data(BUFFER_BYTES, 16);
const CHECK: usize = memory.data<u8>([0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39]); // "123456789"
const CHECK_BYTES = 9;

export function init(): void {
  for (let n: u32 = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? POLYNOMIAL ^ (c >>> 1) : c >>> 1;
    store<u32>(TABLE + (<usize>n << 2), c);
  }
  for (let i = 0; i < BUFFER_BYTES; i++) store<u8>(BUFFER + <usize>i, 0);
}

function crc32(data: usize, length: i32): u32 {
  let crc: u32 = 0xffffffff;
  for (let end = data + <usize>length; data < end; data++) {
    const index = (crc ^ <u32>load<u8>(data)) & 0xff;
    crc = load<u32>(TABLE + (<usize>index << 2)) ^ (crc >>> 8);
  }
  return crc ^ 0xffffffff;
}

export function step(): void {
  const cycle = cycleNumber();
  let state = seed(cycle, SALT);
  for (let i = 0; i < BUFFER_BYTES; i += 4) {
    state = next(state);
    store<u32>(BUFFER + <usize>i, state);
  }
  const crc = crc32(BUFFER, BUFFER_BYTES);
  const check = crc32(CHECK, CHECK_BYTES);
  output(crc, check, cycle, check == CHECK_VALUE ? 1 : 0);
}
