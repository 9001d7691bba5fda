// Typed 8-byte slots for WebAssembly global values, so that globals can be stored bit-exactly outside a
// core (in the checkpoint) and have single bits flipped according to their real width and encoding: an
// i32 has 32 flippable bits, an f64 has 64, whatever JavaScript number happens to carry them.
import { BITS_OF_TYPE, type ValueTypeName } from '../passes/export-state.js';

export { BITS_OF_TYPE };

export class GlobalSlots {
  private readonly i32: Int32Array;
  private readonly f32: Float32Array;
  private readonly f64: Float64Array;
  private readonly i64: BigInt64Array;
  readonly bytes: Uint8Array;

  constructor(
    readonly types: readonly ValueTypeName[],
    buffer: ArrayBufferLike = new ArrayBuffer(types.length * 8),
    byteOffset = 0,
  ) {
    const count = types.length;
    this.i32 = new Int32Array(buffer, byteOffset, count * 2);
    this.f32 = new Float32Array(buffer, byteOffset, count * 2);
    this.f64 = new Float64Array(buffer, byteOffset, count);
    this.i64 = new BigInt64Array(buffer, byteOffset, count);
    this.bytes = new Uint8Array(buffer, byteOffset, count * 8);
  }

  static byteLength(count: number): number {
    return count * 8;
  }

  store(index: number, value: number | bigint): void {
    switch (this.types[index]) {
      case 'i32':
        this.i32[index * 2] = value as number;
        break;
      case 'f32':
        this.f32[index * 2] = value as number;
        break;
      case 'f64':
        this.f64[index] = value as number;
        break;
      case 'i64':
        this.i64[index] = value as bigint;
        break;
    }
  }

  load(index: number): number | bigint {
    switch (this.types[index]) {
      case 'i32':
        return this.i32[index * 2];
      case 'f32':
        return this.f32[index * 2];
      case 'f64':
        return this.f64[index];
      case 'i64':
        return this.i64[index];
    }
  }

  /** Flips `width` adjacent bits starting at `bit` (little-endian bit numbering within the value). */
  flip(index: number, bit: number, width = 1): void {
    const bits = BITS_OF_TYPE[this.types[index]];
    if (bit < 0 || bit + width > bits) throw new RangeError(`bits ${bit}..${bit + width - 1} outside a ${bits}-bit global`);
    for (let b = bit; b < bit + width; b++) this.bytes[index * 8 + (b >> 3)] ^= 1 << (b & 7);
  }
}
