// Addressing one number of a 42 message by its name, as a mapping to a flight computer's bus would:
// `Gyro[1].Rate`, `ST[0].qn[3]`, `Whl[0].Tcmd`, `G[0].CBoGo[2][1]`. A name is checked once against the
// message's layout and the counts 42 announced, and becomes an accessor used every step; a name that does
// not exist is refused in one line saying what does.
import { ARRAY_COUNTS, elementsOf, type ArraySizes, type Field, type Layout } from './ac-layout.js';

export class AcFieldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AcFieldError';
  }
}

export interface FieldAccessor {
  /** The name as given. */
  readonly name: string;
  get(message: object): number;
  set(message: object, value: number): void;
}

/** Every scalar of the message in message order, by name (`Gyro[0].Rate`, `ST[0].qn[0]`...) with its field. */
export function scalars(layout: Layout, sizes: ArraySizes): { name: string; field: Field }[] {
  const all: { name: string; field: Field }[] = [];
  for (const field of layout.fields) {
    for (let k = 0; k < elementsOf(field, sizes); k++) {
      const base = field.array === null ? field.path.join('.') : `${field.array}[${k}].${field.path.join('.')}`;
      let suffixes = [''];
      for (const n of field.dims) suffixes = suffixes.flatMap((s) => Array.from({ length: n }, (_, i) => `${s}[${i}]`));
      for (const suffix of suffixes) all.push({ name: base + suffix, field });
    }
  }
  return all;
}

/** Every scalar of the message, by name, in message order. */
export function fieldNames(layout: Layout, sizes: ArraySizes): string[] {
  return scalars(layout, sizes).map((scalar) => scalar.name);
}

const NAME = /^(?:(\w+)\[(\d+)\]\.)?(\w+(?:\.\w+)*)((?:\[\d+\])*)$/;

/** An accessor for one scalar of messages of this layout and these counts, or a refusal naming why. */
export function fieldAccessor(layout: Layout, sizes: ArraySizes, name: string): FieldAccessor {
  const match = NAME.exec(name);
  if (!match) throw new AcFieldError(`${name}: not a field name of 42's (like Gyro[0].Rate, ST[0].qn[3], Whl[1].Tcmd)`);
  const [, array, index, path, dims] = match;
  const indices = [...dims.matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1]));
  const field = layout.fields.find((f) => (f.array ?? undefined) === array && f.path.join('.') === path);
  if (!field) throw new AcFieldError(`${name}: ${layout.name} have no such field (they have ${summary(layout, array)})`);
  if (field.array !== null) {
    const count = sizes[ARRAY_COUNTS[field.array]];
    const k = Number(index);
    if (k >= count) {
      const range = count === 0 ? `none` : count === 1 ? `${field.array}[0] only` : `${field.array}[0] to ${field.array}[${count - 1}]`;
      throw new AcFieldError(`${name}: 42 announced ${count} ${field.array} (${range})`);
    }
  }
  if (indices.length !== field.dims.length || indices.some((i, d) => i >= field.dims[d])) {
    const shape = field.dims.length === 0 ? 'a number (no index)' : field.dims.map((n) => `[0..${n - 1}]`).join('');
    throw new AcFieldError(`${name}: ${field.spec.split(' ')[1]} is ${shape}`);
  }
  return compile(field, Number(index ?? 0), indices, name);
}

function summary(layout: Layout, array: string | undefined): string {
  const fields = layout.fields.filter((f) => array === undefined || f.array === array);
  if (fields.length === 0) return `no ${array}[k] fields; arrays: ${[...new Set(layout.fields.flatMap((f) => (f.array ? [f.array] : [])))].join(', ')}`;
  return fields.map((f) => f.spec.split(' ')[1]).join(', ');
}

function compile(field: Field, k: number, indices: readonly number[], name: string): FieldAccessor {
  // Down to the object or array that holds the number: the member path, then every index but the last.
  const steps: readonly (string | number)[] = indices.length > 0 ? [...field.path, ...indices.slice(0, -1)] : field.path.slice(0, -1);
  const container = (message: object): Record<string | number, unknown> => {
    let node: unknown = field.array === null ? message : (message as Record<string, unknown[]>)[field.array]?.[k];
    for (const step of steps) node = (node as Record<string | number, unknown> | undefined)?.[step];
    if (typeof node !== 'object' || node === null) throw new AcFieldError(`${name}: missing from the message`);
    return node as Record<string | number, unknown>;
  };
  const last = indices.length > 0 ? indices[indices.length - 1] : field.path[field.path.length - 1];
  return {
    name,
    get(message) {
      const value = container(message)[last];
      if (typeof value !== 'number') throw new AcFieldError(`${name}: missing from the message`);
      return value;
    },
    set(message, value) {
      container(message)[last] = value;
    },
  };
}
