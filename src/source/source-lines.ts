// Where a module's source lines come from: DWARF line tables inside it (clang -g or -gline-tables-only),
// or a source map beside it that its sourceMappingURL section names (asc --sourceMap). Either becomes one
// lookup from a byte offset of the module to the file and line it was compiled from. A module with
// neither has no lines, and a map the module names but that cannot be found is the same: the reports
// then name functions only.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDwarfLines } from './dwarf-line.js';
import { parseSourceMap } from './source-map.js';
import { codeSectionOf, Reader, sectionsOf } from '../passes/wasm-binary.js';
import { ModuleError } from '../passes/index.js';
import { DwarfError } from './dwarf-line.js';
import { SourceMapError } from './source-map.js';

export interface SourceLine {
  readonly file: string;
  readonly line: number;
}

export interface SourceLines {
  readonly kind: 'dwarf' | 'source-map';
  /** Where the lines were read: the module (DWARF) or the map file. */
  readonly from: string;
  /** The line of the instruction at `offset` (a byte offset of the module), or null when none is known. */
  lookup(offset: number): SourceLine | null;
  /** The first line known for an instruction in [start, end): where a function's body begins, in its source. */
  firstIn(start: number, end: number): SourceLine | null;
}

/** The last entry at or before `key` of an ascending table. */
function lastAtOrBefore<T>(keys: readonly number[], values: readonly T[], key: number): T | null {
  let lo = 0;
  let hi = keys.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid] <= key) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found < 0 ? null : values[found];
}

/** The first entry with a line (not 0) whose key is in [start, end) of an ascending table. */
function firstIn(keys: readonly number[], values: ReadonlyArray<SourceLine | null>, start: number, end: number): SourceLine | null {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid] < start) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < keys.length && keys[i] < end; i++) {
    const line = values[i];
    if (line && line.line > 0) return line;
  }
  return null;
}

/** The URL a sourceMappingURL section holds. */
function sourceMappingUrl(bytes: Uint8Array): string | null {
  const section = sectionsOf(bytes).find((candidate) => candidate.id === 0 && candidate.name === 'sourceMappingURL');
  return section ? new Reader(bytes, section.payload, section.end).name() : null;
}

/**
 * The source lines of a module: its DWARF, else the source map its sourceMappingURL names (relative to
 * the module's own path, `path`), else `path`.map; null when it has none.
 */
export function sourceLinesOf(bytes: Uint8Array, path: string | null): SourceLines | null {
  try {
    return readSourceLines(bytes, path);
  } catch (error) {
    // A broken line table or map is the user's file: named, never a stack trace (a stale map can be deleted).
    if (error instanceof SourceMapError || error instanceof DwarfError) throw new ModuleError(path ?? 'module', `its line information cannot be read: ${error.message}`);
    throw error;
  }
}

function readSourceLines(bytes: Uint8Array, path: string | null): SourceLines | null {
  const sections = sectionsOf(bytes);
  const custom = (name: string) => {
    const section = sections.find((candidate) => candidate.id === 0 && candidate.name === name);
    return section ? bytes.subarray(section.payload, section.end) : undefined;
  };
  const line = custom('.debug_line');
  const code = codeSectionOf(bytes);
  if (line && code) {
    const table = parseDwarfLines({ line, lineStr: custom('.debug_line_str'), str: custom('.debug_str') });
    // DWARF addresses count from the Code section's contents.
    const offsets = table.addresses.map((address) => address + code.contents);
    return {
      kind: 'dwarf',
      from: path ?? 'the module',
      lookup: (offset) => lastAtOrBefore(offsets, table.lines, offset),
      firstIn: (start, end) => firstIn(offsets, table.lines, start, end),
    };
  }
  if (path === null) return null;
  const url = sourceMappingUrl(bytes);
  const candidates = [url && !/^[a-z]+:/i.test(url) ? resolve(dirname(path), url) : null, `${path}.map`].filter((candidate): candidate is string => candidate !== null);
  const mapPath = candidates.find((candidate) => existsSync(candidate));
  if (!mapPath) return null;
  const map = parseSourceMap(readFileSync(mapPath, 'utf8'), mapPath);
  // A map of another build would name wrong lines: one that maps past the module's end cannot be its own.
  if (map.offsets.length > 0 && map.offsets[map.offsets.length - 1] >= bytes.length) {
    throw new SourceMapError(`${mapPath}: maps byte ${map.offsets[map.offsets.length - 1]}, past the end of the ${bytes.length}-byte module (a map of another build?)`);
  }
  return {
    kind: 'source-map',
    from: mapPath,
    lookup: (offset) => lastAtOrBefore(map.offsets, map.lines, offset),
    firstIn: (start, end) => firstIn(map.offsets, map.lines, start, end),
  };
}
