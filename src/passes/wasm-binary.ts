// The few things source-level diagnostics need from a WebAssembly binary that neither V8 nor Binaryen's
// JavaScript API tells: where its sections and function bodies lie, the byte offset of each instruction
// of a body (what a source map and a DWARF line table are keyed by), and the module without its debug
// sections, which is what cores are built from (debug information must never change what a core does or
// costs, nor reach Binaryen, which would try to rewrite DWARF it cannot keep true through our passes).
// The input has been validated by V8 before it gets here (readModule), so the decoder trusts its shape
// but still bounds every loop by the bytes it has.

export interface Section {
  readonly id: number;
  /** A custom section's name ('' for the others). */
  readonly name: string;
  /** The section's first byte (its id), its payload's first byte (a custom section's after its name), its end. */
  readonly start: number;
  readonly payload: number;
  readonly end: number;
}

export class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public offset = 0,
    readonly limit = bytes.length,
  ) {}

  byte(): number {
    if (this.offset >= this.limit) throw new RangeError(`wasm: read past the end at byte ${this.offset}`);
    return this.bytes[this.offset++];
  }

  /** An unsigned LEB128 (up to 2^53). */
  u32(): number {
    let value = 0;
    for (let shift = 0; shift < 57; shift += 7) {
      const byte = this.byte();
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new RangeError(`wasm: LEB128 too long at byte ${this.offset}`);
  }

  /** Skips a signed LEB128 of any width. */
  skipLeb(): void {
    for (let i = 0; i < 10; i++) if (this.byte() < 0x80) return;
    throw new RangeError(`wasm: LEB128 too long at byte ${this.offset}`);
  }

  skip(count: number): void {
    if (this.offset + count > this.limit) throw new RangeError(`wasm: read past the end at byte ${this.offset}`);
    this.offset += count;
  }

  name(): string {
    const length = this.u32();
    const start = this.offset;
    this.skip(length);
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + start, length).toString('utf8');
  }
}

export function sectionsOf(bytes: Uint8Array): Section[] {
  const sections: Section[] = [];
  const reader = new Reader(bytes, 8);
  while (reader.offset < bytes.length) {
    const start = reader.offset;
    const id = reader.byte();
    const size = reader.u32();
    const contents = reader.offset;
    const end = contents + size;
    let name = '';
    let payload = contents;
    if (id === 0) {
      name = new Reader(bytes, contents, end).name();
      payload = contents + (new Reader(bytes, contents, end).u32() + leb128Length(bytes, contents));
    }
    sections.push({ id, name, start, payload, end });
    reader.offset = end;
  }
  return sections;
}

function leb128Length(bytes: Uint8Array, offset: number): number {
  let length = 1;
  while (bytes[offset + length - 1] >= 0x80 && length < 10) length++;
  return length;
}

/** Custom sections that carry debug information, not meaning: DWARF, and the pointers to a source map or to separate DWARF. */
export const isDebugSection = (section: Section): boolean =>
  section.id === 0 && (section.name.startsWith('.debug_') || section.name === 'sourceMappingURL' || section.name === 'external_debug_info');

/** The module without its debug sections (the same bytes when it has none). The name section stays. */
export function stripDebugSections(bytes: Uint8Array): Uint8Array {
  const sections = sectionsOf(bytes);
  if (!sections.some(isDebugSection)) return bytes;
  const kept = [bytes.subarray(0, 8), ...sections.filter((section) => !isDebugSection(section)).map((section) => bytes.subarray(section.start, section.end))];
  return new Uint8Array(Buffer.concat(kept));
}

export interface FunctionBody {
  /** Offset of the body's size field, of its first instruction (after the locals) and of its end. */
  readonly start: number;
  readonly code: number;
  readonly end: number;
}

export interface CodeSection {
  /** The first byte of the section's contents (its function count): DWARF addresses count from here. */
  readonly contents: number;
  readonly bodies: readonly FunctionBody[];
}

export function codeSectionOf(bytes: Uint8Array): CodeSection | null {
  const section = sectionsOf(bytes).find((candidate) => candidate.id === 10);
  if (!section) return null;
  const reader = new Reader(bytes, section.payload, section.end);
  const contents = reader.offset;
  const count = reader.u32();
  const bodies: FunctionBody[] = [];
  for (let i = 0; i < count; i++) {
    const start = reader.offset;
    const size = reader.u32();
    const end = reader.offset + size;
    const localGroups = reader.u32();
    for (let group = 0; group < localGroups && reader.offset < end; group++) {
      reader.u32();
      reader.byte();
    }
    bodies.push({ start, code: reader.offset, end });
    reader.offset = end;
  }
  return { contents, bodies };
}

/**
 * The classes of instructions that fault-hook sites are, as both the binary and Binaryen's IR can name
 * them: enough to pair each site with its instruction in the binary (src/source/site-sources.ts).
 */
export type InstructionClass = 'if' | 'br_if' | 'br_table' | 'select' | 'call' | 'load' | 'op' | 'memory.size' | 'memory.grow' | 'simd';

export interface ClassifiedInstruction {
  readonly offset: number;
  readonly kind: InstructionClass;
}

const VALUE_TYPES: ReadonlySet<number> = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f]);

function skipBlockType(reader: Reader): void {
  const first = reader.bytes[reader.offset];
  if (first === 0x40 || VALUE_TYPES.has(first)) reader.skip(1);
  else reader.skipLeb();
}

function skipMemarg(reader: Reader): void {
  reader.u32();
  reader.u32();
}

/** The instructions of a body that belong to a class, with their offsets, in the order of the binary. */
export function classifiedInstructions(bytes: Uint8Array, body: FunctionBody): ClassifiedInstruction[] {
  const reader = new Reader(bytes, body.code, body.end);
  const found: ClassifiedInstruction[] = [];
  while (reader.offset < body.end) {
    const offset = reader.offset;
    const opcode = reader.byte();
    let kind: InstructionClass | null = null;
    if (opcode === 0x02 || opcode === 0x03) skipBlockType(reader);
    else if (opcode === 0x04) {
      skipBlockType(reader);
      kind = 'if';
    } else if (opcode === 0x0c) reader.u32();
    else if (opcode === 0x0d) {
      reader.u32();
      kind = 'br_if';
    } else if (opcode === 0x0e) {
      const targets = reader.u32();
      for (let i = 0; i <= targets; i++) reader.u32();
      kind = 'br_table';
    } else if (opcode === 0x10) {
      reader.u32();
      kind = 'call';
    } else if (opcode === 0x11) {
      reader.u32();
      reader.u32();
      kind = 'call';
    } else if (opcode === 0x1b) kind = 'select';
    else if (opcode === 0x1c) {
      const types = reader.u32();
      reader.skip(types);
      kind = 'select';
    } else if (opcode >= 0x20 && opcode <= 0x26) reader.u32();
    else if (opcode >= 0x28 && opcode <= 0x3e) {
      skipMemarg(reader);
      if (opcode <= 0x35) kind = 'load';
    } else if (opcode === 0x3f || opcode === 0x40) {
      reader.u32();
      kind = opcode === 0x3f ? 'memory.size' : 'memory.grow';
    } else if (opcode === 0x41 || opcode === 0x42) reader.skipLeb();
    else if (opcode === 0x43) reader.skip(4);
    else if (opcode === 0x44) reader.skip(8);
    else if (opcode >= 0x45 && opcode <= 0xc4) kind = 'op';
    else if (opcode === 0xd0) reader.byte();
    else if (opcode === 0xd2) reader.u32();
    else if (opcode === 0xfc) {
      const sub = reader.u32();
      if (sub <= 7) kind = 'op';
      else if (sub === 8 || sub === 12 || sub === 14) {
        reader.u32();
        reader.u32();
      } else if (sub === 10) {
        reader.u32();
        reader.u32();
      } else reader.u32();
    } else if (opcode === 0xfd) {
      const sub = reader.u32();
      if (sub <= 11 || sub === 92 || sub === 93) skipMemarg(reader);
      else if (sub === 12 || sub === 13) reader.skip(16);
      else if (sub >= 21 && sub <= 34) reader.skip(1);
      else if (sub >= 84 && sub <= 91) {
        skipMemarg(reader);
        reader.skip(1);
      }
      if (sub !== 12) kind = 'simd';
    }
    // Every other opcode of the supported features (unreachable, nop, else, end, br's relatives, return,
    // drop, ref.is_null) has no immediate.
    if (kind) found.push({ offset, kind });
  }
  return found;
}
