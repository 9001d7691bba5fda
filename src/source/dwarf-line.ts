// DWARF line tables (.debug_line, versions 2 to 5), as clang writes them into a wasm module with -g or
// -gline-tables-only: the line program of each compilation unit run into one table of addresses, each
// with the source file and line of the instructions from it on (null past a sequence's end). In a
// WebAssembly module an address is a byte offset from the start of the Code section's contents, which
// the caller adds (tool conventions, Debugging.md). Only what line lookup needs is decoded.
import type { SourceLine } from './source-lines.js';

export class DwarfError extends Error {}

class Cursor {
  constructor(
    readonly bytes: Uint8Array,
    public offset: number,
    readonly end: number,
  ) {}

  private need(count: number): void {
    if (this.offset + count > this.end) throw new DwarfError(`.debug_line: truncated at byte ${this.offset}`);
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.offset++];
  }

  u16(): number {
    return this.u8() | (this.u8() << 8);
  }

  u32(): number {
    return (this.u16() | (this.u16() << 16)) >>> 0;
  }

  fixed(size: number): number {
    let value = 0;
    for (let i = 0; i < size; i++) value += this.u8() * 2 ** (8 * i);
    return value;
  }

  uleb(): number {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      const byte = this.u8();
      if (shift < 53) value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new DwarfError(`.debug_line: LEB128 too long at byte ${this.offset}`);
  }

  sleb(): number {
    let value = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = this.u8();
      if (shift < 53) value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte >= 0x80 && shift < 70);
    if (byte & 0x40 && shift < 53) value -= 2 ** shift;
    return value;
  }

  cstring(): string {
    const start = this.offset;
    while (this.offset < this.end && this.bytes[this.offset] !== 0) this.offset++;
    const text = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + start, this.offset - start).toString('utf8');
    this.u8();
    return text;
  }
}

/** The sections a line table may refer to for its strings (DWARF 5's line_strp and strp forms). */
export interface DwarfSections {
  readonly line: Uint8Array;
  readonly lineStr?: Uint8Array;
  readonly str?: Uint8Array;
}

const cstringAt = (section: Uint8Array | undefined, offset: number): string => {
  if (!section || offset >= section.length) return '?';
  return new Cursor(section, offset, section.length).cstring();
};

/** A file name as the program was compiled, without the "./" a mapped prefix leaves. */
function joinPath(directory: string, name: string): string {
  const path = name.startsWith('/') || directory === '' || directory === '.' ? name : `${directory}/${name}`;
  return path.replace(/^(\.\/)+/, '');
}

/** Reads one DWARF 5 entry (directory or file) by its format: the path and directory index it names. */
function readEntry(cursor: Cursor, formats: ReadonlyArray<[number, number]>, offsetSize: number, sections: DwarfSections): { path: string; directory: number } {
  let path = '';
  let directory = 0;
  for (const [content, form] of formats) {
    let text: string | null = null;
    let number = 0;
    switch (form) {
      case 0x08: text = cursor.cstring(); break; // string
      case 0x1f: text = cstringAt(sections.lineStr, cursor.fixed(offsetSize)); break; // line_strp
      case 0x0e: text = cstringAt(sections.str, cursor.fixed(offsetSize)); break; // strp
      case 0x0b: number = cursor.u8(); break; // data1
      case 0x05: number = cursor.u16(); break; // data2
      case 0x06: number = cursor.u32(); break; // data4
      case 0x07: number = cursor.fixed(8); break; // data8
      case 0x1e: cursor.fixed(8); cursor.fixed(8); break; // data16 (an MD5)
      case 0x0f: number = cursor.uleb(); break; // udata
      case 0x09: { const length = cursor.uleb(); cursor.offset += length; break; } // block
      default: throw new DwarfError(`.debug_line: an entry in form 0x${form.toString(16)}, which lockstep does not read`);
    }
    if (content === 1 && text !== null) path = text; // DW_LNCT_path
    if (content === 2) directory = number; // DW_LNCT_directory_index
  }
  return { path, directory };
}

/** Every line table of `.debug_line`, as addresses (ascending) and the source line from each on. */
export function parseDwarfLines(sections: DwarfSections): { addresses: number[]; lines: Array<SourceLine | null> } {
  const bytes = sections.line;
  const rows: Array<{ address: number; line: SourceLine | null }> = [];
  let unitStart = 0;
  // Bounded: each unit advances by its length, at least its header.
  while (unitStart + 4 <= bytes.length) {
    const header = new Cursor(bytes, unitStart, bytes.length);
    let length = header.u32();
    let offsetSize = 4;
    if (length === 0xffffffff) {
      length = header.fixed(8);
      offsetSize = 8;
    }
    const unitEnd = header.offset + length;
    if (unitEnd > bytes.length || length === 0) throw new DwarfError(`.debug_line: a unit at byte ${unitStart} runs past the section`);
    const cursor = new Cursor(bytes, header.offset, unitEnd);
    const version = cursor.u16();
    if (version < 2 || version > 5) throw new DwarfError(`.debug_line: version ${version}, which lockstep does not read (2 to 5)`);
    let addressSize = 4;
    if (version >= 5) {
      addressSize = cursor.u8();
      cursor.u8(); // segment selector size
    }
    const headerLength = cursor.fixed(offsetSize);
    const programStart = cursor.offset + headerLength;
    const minInstructionLength = cursor.u8();
    if (version >= 4) cursor.u8(); // maximum operations per instruction (VLIW only)
    const defaultIsStmt = cursor.u8();
    void defaultIsStmt;
    const lineBase = (cursor.u8() << 24) >> 24;
    const lineRange = cursor.u8();
    const opcodeBase = cursor.u8();
    if (lineRange === 0) throw new DwarfError('.debug_line: line_range 0');
    const standardLengths: number[] = [];
    for (let i = 1; i < opcodeBase; i++) standardLengths.push(cursor.u8());

    const files: string[] = [];
    if (version >= 5) {
      const formatsOf = () => {
        const count = cursor.u8();
        const formats: Array<[number, number]> = [];
        for (let i = 0; i < count; i++) formats.push([cursor.uleb(), cursor.uleb()]);
        return formats;
      };
      const directoryFormats = formatsOf();
      const directories: string[] = [];
      const directoryCount = cursor.uleb();
      for (let i = 0; i < directoryCount; i++) directories.push(readEntry(cursor, directoryFormats, offsetSize, sections).path);
      const fileFormats = formatsOf();
      const fileCount = cursor.uleb();
      for (let i = 0; i < fileCount; i++) {
        const entry = readEntry(cursor, fileFormats, offsetSize, sections);
        // Directory 0 is the compilation directory: file names are given relative to it.
        files.push(joinPath(entry.directory > 0 ? (directories[entry.directory] ?? '') : '', entry.path));
      }
    } else {
      const directories = [''];
      for (let name = cursor.cstring(); name !== '' && cursor.offset < programStart; name = cursor.cstring()) directories.push(name);
      files.push(''); // file 0 does not exist before DWARF 5
      for (let name = cursor.cstring(); name !== '' && cursor.offset < programStart; name = cursor.cstring()) {
        const directory = cursor.uleb();
        cursor.uleb();
        cursor.uleb();
        files.push(joinPath(directories[directory] ?? '', name));
      }
    }

    cursor.offset = programStart;
    let address = 0;
    let file = 1;
    let line = 1;
    const emit = () => rows.push({ address, line: files[file] ? { file: files[file], line } : null });
    const reset = () => {
      address = 0;
      file = 1;
      line = 1;
    };
    while (cursor.offset < unitEnd) {
      const opcode = cursor.u8();
      if (opcode >= opcodeBase) {
        const adjusted = opcode - opcodeBase;
        address += Math.floor(adjusted / lineRange) * minInstructionLength;
        line += lineBase + (adjusted % lineRange);
        emit();
        continue;
      }
      switch (opcode) {
        case 0: {
          const size = cursor.uleb();
          const next = cursor.offset + size;
          const sub = size > 0 ? cursor.u8() : 0;
          if (sub === 1) {
            rows.push({ address, line: null }); // end_sequence: no source from here
            reset();
          } else if (sub === 2) {
            address = cursor.fixed(Math.min(size - 1, addressSize === 8 ? 8 : size - 1));
          }
          cursor.offset = next;
          break;
        }
        case 1: emit(); break; // copy
        case 2: address += cursor.uleb() * minInstructionLength; break;
        case 3: line += cursor.sleb(); break;
        case 4: file = cursor.uleb(); break;
        case 5: cursor.uleb(); break; // column
        case 8: address += Math.floor((255 - opcodeBase) / lineRange) * minInstructionLength; break;
        case 9: address += cursor.u16(); break;
        default:
          // negate_stmt, basic_block, prologue_end, epilogue_begin take nothing; set_isa and unknown ones their LEBs.
          for (let i = 0; i < (standardLengths[opcode - 1] ?? 0); i++) cursor.uleb();
      }
    }
    unitStart = unitEnd;
  }
  // An end of sequence sorts before a row at the same address: the next sequence starts there.
  rows.sort((a, b) => a.address - b.address || (a.line === null ? -1 : 0) - (b.line === null ? -1 : 0));
  return { addresses: rows.map((row) => row.address), lines: rows.map((row) => row.line) };
}
