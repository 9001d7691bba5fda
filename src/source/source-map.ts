// Source Map v3 for WebAssembly, as asc (and Binaryen, and emcc) write it: one generated "line", whose
// columns are byte offsets of instructions in the .wasm file, each mapped to a source file, line and
// column. Read into one table sorted by offset, so that an instruction's source is the last mapping at
// or before it. https://sourcemaps.info/spec.html; the WebAssembly convention is in the tool conventions'
// Debugging.md.
import type { SourceLine } from './source-lines.js';

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DIGIT = new Map([...BASE64].map((char, value) => [char, value]));

export class SourceMapError extends Error {}

/** Decodes one segment's base64 VLQ fields. */
function decodeSegment(segment: string, where: string): number[] {
  const fields: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = DIGIT.get(char);
    if (digit === undefined) throw new SourceMapError(`${where}: mappings holds "${char}", not base64`);
    value += (digit & 31) * 2 ** shift;
    if (digit & 32) {
      shift += 5;
      if (shift > 50) throw new SourceMapError(`${where}: a mapping's number is too long`);
      continue;
    }
    fields.push(value % 2 === 1 ? -(value - 1) / 2 : value / 2);
    value = 0;
    shift = 0;
  }
  return fields;
}

/**
 * The mappings of a source map: for each mapped byte offset of the module (ascending), its source file
 * and line. `text` is the map's JSON; `where` names it in errors.
 */
export function parseSourceMap(text: string, where: string): { offsets: number[]; lines: SourceLine[] } {
  let map: { version?: unknown; sources?: unknown; sourceRoot?: unknown; mappings?: unknown };
  try {
    map = JSON.parse(text);
  } catch {
    throw new SourceMapError(`${where}: not JSON (a source map is expected)`);
  }
  if (map?.version !== 3 || !Array.isArray(map.sources) || typeof map.mappings !== 'string') {
    throw new SourceMapError(`${where}: not a version 3 source map (version, sources and mappings are needed)`);
  }
  const root = typeof map.sourceRoot === 'string' && map.sourceRoot !== '' ? map.sourceRoot.replace(/\/?$/, '/') : '';
  const sources = map.sources.map((source) => `${root}${String(source)}`.replace(/^(\.\/)+/, ''));
  const entries: Array<{ offset: number; line: SourceLine }> = [];
  // The fields are deltas from the previous segment's; the generated line is always the first.
  let column = 0;
  let source = 0;
  let line = 0;
  let sourceColumn = 0;
  for (const group of map.mappings.split(';')) {
    for (const segment of group.split(',')) {
      if (segment === '') continue;
      const fields = decodeSegment(segment, where);
      column += fields[0];
      if (fields.length < 4) continue;
      source += fields[1];
      line += fields[2];
      sourceColumn += fields[3];
      const file = sources[source];
      if (file === undefined) throw new SourceMapError(`${where}: a mapping names source ${source}; the map lists ${sources.length}`);
      entries.push({ offset: column, line: { file, line: line + 1 } });
    }
  }
  entries.sort((a, b) => a.offset - b.offset);
  return { offsets: entries.map((entry) => entry.offset), lines: entries.map((entry) => entry.line) };
}
