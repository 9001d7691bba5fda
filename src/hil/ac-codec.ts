// Bytes ⇄ structured messages of 42's AC protocol, driven by the layouts of ac-layout.ts: one decoder and
// one encoder for every message and every count of sensors and actuators 42 announces. A decoded message
// is a plain object named as 42 names it (`inputs.Gyro[1].Rate`, `outputs.Whl[0].Tcmd`); an encoded one
// is exactly the bytes 42's memcpy loops produce, in host byte order.
import { endianness } from 'node:os';
import { ARRAY_COUNTS, elementsOf, messageBytes, VALUE_BYTES, type ArraySizes, type Field, type Layout } from './ac-layout.js';

const LITTLE_ENDIAN = endianness() === 'LE';

/** A message handed to the encoder does not have the shape 42 announced (a caller's mistake, not 42's). */
export class AcShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AcShapeError';
  }
}

type Node = Record<string, unknown>;

/** The field's name for element k, as 42 writes it: `Whl[2].Tcmd`, `Cmd.qrl`. */
export function fieldName(field: Field, k: number): string {
  const member = field.path.join('.');
  return field.array === null ? member : `${field.array}[${k}].${member}`;
}

function read(field: Field, bytes: Buffer, offset: number): number {
  if (field.type === 'double') return LITTLE_ENDIAN ? bytes.readDoubleLE(offset) : bytes.readDoubleBE(offset);
  return Number(LITTLE_ENDIAN ? bytes.readBigInt64LE(offset) : bytes.readBigInt64BE(offset));
}

function write(field: Field, bytes: Buffer, offset: number, value: number, name: string): void {
  if (field.type === 'double') {
    if (LITTLE_ENDIAN) bytes.writeDoubleLE(value, offset);
    else bytes.writeDoubleBE(value, offset);
    return;
  }
  if (!Number.isSafeInteger(value)) throw new AcShapeError(`${name}: a C long must be a whole number, got ${value}`);
  if (LITTLE_ENDIAN) bytes.writeBigInt64LE(BigInt(value), offset);
  else bytes.writeBigInt64BE(BigInt(value), offset);
}

/** The object that holds the field for element k (created on the way down when `create`). */
function holder(root: Node, field: Field, k: number, create: boolean, name: string): Node {
  let node: unknown = field.array === null ? root : (root[field.array] as unknown[] | undefined)?.[k];
  if (node === undefined && field.array !== null) {
    const list = root[field.array];
    const count = Array.isArray(list) ? list.length : 'none';
    throw new AcShapeError(`${name}: missing (${field.array} has ${count} elements)`);
  }
  for (const member of field.path.slice(0, -1)) {
    const parent = node as Node;
    if (create) parent[member] ??= {};
    node = parent[member];
    if (typeof node !== 'object' || node === null) throw new AcShapeError(`${name}: missing (no ${member})`);
  }
  return node as Node;
}

/** Decodes a whole message; `bytes` is exactly messageBytes(layout, sizes) long. */
export function decode<T>(layout: Layout, sizes: ArraySizes, bytes: Buffer): T {
  const expected = messageBytes(layout, sizes);
  if (bytes.length !== expected) throw new Error(`ac-codec: ${layout.name} need ${expected} bytes, got ${bytes.length}`);
  const root: Node = {};
  for (const f of layout.fields) {
    if (f.array !== null && root[f.array] === undefined) root[f.array] = Array.from({ length: sizes[ARRAY_COUNTS[f.array]] }, () => ({}));
  }
  let offset = 0;
  for (const f of layout.fields) {
    const member = f.path[f.path.length - 1];
    for (let k = 0; k < elementsOf(f, sizes); k++) {
      const node = holder(root, f, k, true, fieldName(f, k));
      const [rows, columns] = f.dims;
      if (rows === undefined) {
        node[member] = read(f, bytes, offset);
        offset += VALUE_BYTES;
      } else if (columns === undefined) {
        const vector: number[] = [];
        for (let i = 0; i < rows; i++, offset += VALUE_BYTES) vector.push(read(f, bytes, offset));
        node[member] = vector;
      } else {
        const matrix: number[][] = [];
        for (let i = 0; i < rows; i++) {
          const row: number[] = [];
          for (let j = 0; j < columns; j++, offset += VALUE_BYTES) row.push(read(f, bytes, offset));
          matrix.push(row);
        }
        node[member] = matrix;
      }
    }
  }
  return root as T;
}

function values(value: unknown, dims: readonly number[], name: string): number[] {
  if (dims.length === 0) {
    if (typeof value !== 'number') throw new AcShapeError(`${name}: expected a number, got ${describe(value)}`);
    return [value];
  }
  if (!Array.isArray(value) || value.length !== dims[0]) throw new AcShapeError(`${name}: expected ${dims[0]} values, got ${describe(value)}`);
  return value.flatMap((item, i) => values(item, dims.slice(1), `${name}[${i}]`));
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `${value.length} values`;
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** Encodes a whole message, padding included; every field for every announced element must be there. */
export function encode(layout: Layout, sizes: ArraySizes, message: object): Buffer {
  const root = message as Node;
  for (const f of layout.fields) {
    if (f.array === null) continue;
    const list = root[f.array];
    const count = sizes[ARRAY_COUNTS[f.array]];
    if (!Array.isArray(list) || list.length !== count) {
      throw new AcShapeError(`${layout.name}: ${f.array} must have ${count} elements (as 42 announced), got ${describe(list)}`);
    }
  }
  const bytes = Buffer.alloc(messageBytes(layout, sizes));
  let offset = 0;
  for (const f of layout.fields) {
    const member = f.path[f.path.length - 1];
    for (let k = 0; k < elementsOf(f, sizes); k++) {
      const name = fieldName(f, k);
      for (const value of values(holder(root, f, k, false, name)[member], f.dims, name)) {
        write(f, bytes, offset, value, name);
        offset += VALUE_BYTES;
      }
    }
  }
  return bytes;
}

/** A message of zeros with every field for every announced element: a template to fill in. */
export function blank<T>(layout: Layout, sizes: ArraySizes): T {
  return decode<T>(layout, sizes, Buffer.alloc(messageBytes(layout, sizes)));
}
