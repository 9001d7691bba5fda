// The checkpoint stream: how a commit travels over the cross-strap link to the spare's copy of the
// checkpoint. As in SecondSite, each dirty range is sent as its difference from the last committed copy:
// `xor-zero-run` sends the XOR in zero runs (mostly zeros, since a control cycle changes few bytes of a
// range it touches); `predictive` (the default) sends each 8-byte word's residual against a stride
// prediction from what both ends hold (predictive.ts, after FPC), or the zero runs, whichever is smaller
// for the record. Deflate was measured and not kept (docs/model.md#the-cross-strap-link).
//
// Every record carries a CRC-32 over its header and payload, and the commit a header of its own with one:
// a bit flipped in transit is caught before anything of the record is applied, and the receiver asks
// for the stream again from that record on (go-back-N), so that the spare's copy is never silently wrong.
//
// Layout, little-endian. Commit header (20 bytes): magic, cycle (i32), memory length, records, CRC of
// the 16 bytes before it. Record (20-byte header + payload): offset, raw length, payload length,
// region (0 memory, 1 globals) | encoding << 8 (0 the new bytes, 1 XOR zero runs, 2 predictive), CRC of
// header and payload. An empty range sends no record.
// Zero-run payload: until the raw length is covered, a varint count of zero bytes of the XOR, a varint
// count of literal bytes, and those bytes.
import { crc32 } from 'node:zlib';
import { applyPredictive, encodePredictive, zeroRunFloor } from './predictive.js';

export const COMMIT_HEADER_BYTES = 20;
export const RECORD_HEADER_BYTES = 20;
const MAGIC = 0x4b43534c; // "LSCK"

export type StreamEncoding = 'predictive' | 'xor-zero-run' | 'raw';
export const REGION_MEMORY = 0;
export const REGION_GLOBALS = 1;
const ENCODING_RAW = 0;
const ENCODING_XOR_ZERO_RUN = 1;
const ENCODING_PREDICTIVE = 2;

/** Zero bytes needed before a literal run is cut: a shorter run costs more in two varints than it saves. */
const MIN_ZERO_RUN = 3;

/** The sender's side: one commit at a time encoded into a buffer allocated once. */
export class CheckpointStreamWriter {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  length = 0;
  /** Bytes the commit's records describe, before encoding (what a plain copy would send). */
  rawBytes = 0;
  private records = 0;
  /** Where the zero-run encoding of a record is tried beside the predictive one. */
  private readonly scratch: Uint8Array;
  /** The commit's cycle and memory length, as its header says. */
  cycle = 0;
  memoryLength = 0;
  /** Each record's region, range and the array its new bytes came from, for applyIntact. */
  readonly recordRegions: number[] = [];
  readonly recordStarts: number[] = [];
  readonly recordEnds: number[] = [];
  readonly recordSources: Uint8Array[] = [];

  constructor(
    memoryCapacity: number,
    globalsBytes: number,
    readonly encoding: StreamEncoding,
  ) {
    // A record never exceeds its raw length (an encoding that would is replaced by the raw bytes); at
    // most 17 memory ranges, one globals record.
    const capacity = COMMIT_HEADER_BYTES + memoryCapacity + globalsBytes + 32 * RECORD_HEADER_BYTES;
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
    this.scratch = new Uint8Array(encoding === 'predictive' ? Math.max(memoryCapacity, globalsBytes) : 0);
  }

  begin(cycle: number, memoryLength: number): void {
    this.length = COMMIT_HEADER_BYTES;
    this.rawBytes = 0;
    this.records = 0;
    this.cycle = cycle;
    this.memoryLength = memoryLength;
    this.view.setUint32(0, MAGIC, true);
    this.view.setInt32(4, cycle, true);
    this.view.setUint32(8, memoryLength, true);
  }

  /**
   * Appends bytes [start, end) of `next` as a record, encoded against the same bytes of `base` (the
   * committed copy) and its histories `history` and `older` (for predictions: StreamTarget).
   */
  add(region: number, base: Uint8Array, history: Uint8Array, older: Uint8Array, next: Uint8Array, start: number, end: number): void {
    const raw = end - start;
    if (raw <= 0) return;
    const header = this.length;
    const payload = header + RECORD_HEADER_BYTES;
    let encoding = ENCODING_RAW;
    let written = -1;
    if (this.encoding === 'predictive') {
      written = encodePredictive(base, history, older, next, start, end, this.bytes, payload, payload + raw);
      if (written >= 0) encoding = ENCODING_PREDICTIVE;
      // Zero runs win on ranges of few, scattered changed bytes (or of no whole words); they are not
      // tried where they cannot win (most ranges of f64 state).
      const zeroRuns = written >= 0 && zeroRunFloor >= written ? -1 : encodeXorZeroRuns(base, next, start, end, this.scratch, 0, written >= 0 ? written : raw);
      if (zeroRuns >= 0 && (written < 0 || zeroRuns < written)) {
        this.bytes.set(this.scratch.subarray(0, zeroRuns), payload);
        written = zeroRuns;
        encoding = ENCODING_XOR_ZERO_RUN;
      }
    } else if (this.encoding === 'xor-zero-run') {
      written = encodeXorZeroRuns(base, next, start, end, this.bytes, payload, payload + raw);
      if (written >= 0) encoding = ENCODING_XOR_ZERO_RUN;
    }
    if (written < 0) {
      this.bytes.set(next.subarray(start, end), payload);
      written = raw;
      encoding = ENCODING_RAW;
    }
    const view = this.view;
    view.setUint32(header, start, true);
    view.setUint32(header + 4, raw, true);
    view.setUint32(header + 8, written, true);
    view.setUint32(header + 12, region | (encoding << 8), true);
    view.setUint32(header + 16, recordCrc(this.bytes, header, written), true);
    this.length = payload + written;
    this.rawBytes += raw;
    this.recordRegions[this.records] = region;
    this.recordStarts[this.records] = start;
    this.recordEnds[this.records] = end;
    this.recordSources[this.records] = next;
    this.records++;
  }

  /** Records in the commit. */
  get recordCount(): number {
    return this.records;
  }

  /** Closes the commit: the header's record count and checksum. Returns the stream's length in bytes. */
  finish(): number {
    this.view.setUint32(12, this.records, true);
    this.view.setUint32(16, crc32(this.bytes.subarray(0, 16)), true);
    return this.length;
  }
}

function recordCrc(bytes: Uint8Array, header: number, payloadLength: number): number {
  return crc32(bytes.subarray(header + RECORD_HEADER_BYTES, header + RECORD_HEADER_BYTES + payloadLength), crc32(bytes.subarray(header, header + 16)));
}

/**
 * Writes the XOR of next and base over [start, end) as zero runs and literals into out[at, limit);
 * returns the bytes written, or -1 if they would not fit (the caller sends the raw bytes instead).
 */
export function encodeXorZeroRuns(base: Uint8Array, next: Uint8Array, start: number, end: number, out: Uint8Array, at: number, limit: number): number {
  let o = at;
  let i = start;
  while (i < end) {
    let zeros = 0;
    while (i + zeros < end && base[i + zeros] === next[i + zeros]) zeros++;
    i += zeros;
    // Literals run until MIN_ZERO_RUN equal bytes in a row (or the end).
    let literal = i;
    while (literal < end) {
      if (base[literal] !== next[literal]) {
        literal++;
        continue;
      }
      let run = 1;
      while (run < MIN_ZERO_RUN && literal + run < end && base[literal + run] === next[literal + run]) run++;
      if (run >= MIN_ZERO_RUN || literal + run === end) break;
      literal += run;
    }
    const literals = literal - i;
    if (o + 10 + literals > limit) return -1;
    o = writeVarint(out, o, zeros);
    o = writeVarint(out, o, literals);
    for (let k = 0; k < literals; k++) out[o + k] = base[i + k] ^ next[i + k];
    o += literals;
    i = literal;
  }
  return o - at;
}

function writeVarint(out: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  out[at++] = value;
  return at;
}

/**
 * Where the receiver applies records: the spare's copy of memory and of the global slots, and their
 * histories (what predictive records predict from): each byte as it was before the last record that
 * carried it was applied (`history`), and before the one before (`older`). Both ends keep them this way,
 * record by record, so that they cost a copy of what was sent rather than of the whole memory.
 */
export interface StreamTarget {
  readonly memory: Uint8Array;
  readonly globals: Uint8Array;
  readonly memoryHistory: Uint8Array;
  readonly globalsHistory: Uint8Array;
  readonly memoryOlder: Uint8Array;
  readonly globalsOlder: Uint8Array;
}

export interface ApplyResult {
  /** Whether the whole commit was verified and applied. */
  readonly complete: boolean;
  /** Where the stream must be sent again from (the first record that failed its check), when not complete. */
  readonly resendFrom: number;
  /** The commit's cycle and memory length, from its verified header (NaN when the header failed). */
  readonly cycle: number;
  readonly memoryLength: number;
}

/**
 * The receiver: verifies and applies the records of `stream[from, length)` onto `target` in order,
 * stopping at the first that fails its CRC or does not fit (a flipped length); what it applied is
 * verified, what follows is to be sent again. `from` 0 starts at the commit header. Each record applied
 * moves the bytes it replaces into the history, and the history's into `older`.
 */
/** The bytes a record is about to overwrite, and their history, kept for the histories (grown once to the largest record). */
let previous = new Uint8Array(4096);
let previousHistory = new Uint8Array(4096);

export function applyStream(stream: Uint8Array, length: number, target: StreamTarget, from = 0): ApplyResult {
  const view = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  const header = readCommitHeader(stream, view, length);
  if (!header) return { complete: false, resendFrom: 0, cycle: Number.NaN, memoryLength: Number.NaN };
  let at = COMMIT_HEADER_BYTES;
  for (let record = 0; record < header.records; record++) {
    if (at + RECORD_HEADER_BYTES > length) return { complete: false, resendFrom: at, ...header };
    const offset = view.getUint32(at, true);
    const raw = view.getUint32(at + 4, true);
    const payloadLength = view.getUint32(at + 8, true);
    const kind = view.getUint32(at + 12, true);
    const region = kind & 0xff;
    const encoding = kind >>> 8;
    const payload = at + RECORD_HEADER_BYTES;
    const into = region === REGION_GLOBALS ? target.globals : target.memory;
    const fits =
      payload + payloadLength <= length &&
      (region === REGION_MEMORY || region === REGION_GLOBALS) &&
      (encoding === ENCODING_RAW || encoding === ENCODING_XOR_ZERO_RUN || encoding === ENCODING_PREDICTIVE) &&
      offset + raw <= into.length;
    // Past `from` a record is new; before it, it was verified and applied on an earlier transmission.
    if (at >= from) {
      if (!fits || recordCrc(stream, at, payloadLength) !== view.getUint32(at + 16, true)) return { complete: false, resendFrom: at, ...header };
      const history = region === REGION_GLOBALS ? target.globalsHistory : target.memoryHistory;
      const older = region === REGION_GLOBALS ? target.globalsOlder : target.memoryOlder;
      if (previous.length < raw) {
        previous = new Uint8Array(raw);
        previousHistory = new Uint8Array(raw);
      }
      previous.set(into.subarray(offset, offset + raw));
      previousHistory.set(history.subarray(offset, offset + raw));
      let applied: boolean;
      if (encoding === ENCODING_RAW) {
        applied = payloadLength === raw;
        if (applied) into.set(stream.subarray(payload, payload + raw), offset);
      } else if (encoding === ENCODING_PREDICTIVE) {
        applied = applyPredictive(stream, payload, payload + payloadLength, into, history, older, offset, offset + raw);
      } else applied = applyXorZeroRuns(stream, payload, payload + payloadLength, into, offset, offset + raw);
      if (!applied) return { complete: false, resendFrom: at, ...header };
      history.set(previous.subarray(0, raw), offset);
      older.set(previousHistory.subarray(0, raw), offset);
    }
    at = payload + payloadLength;
  }
  if (at !== length) return { complete: false, resendFrom: at, ...header };
  return { complete: true, resendFrom: length, ...header };
}

/**
 * Applies the commit `writer` has just encoded, as it would arrive over a link that flipped nothing: the
 * receiver's result is then known without decoding — the sender's bytes, and the replaced bytes into the
 * history, record by record (test/checkpoint-stream.test.ts proves it equal to applyStream for every
 * encoding). Decoding is half the cost of a commit, and a fault-free commit is nearly every commit; a
 * commit the link may strike is always decoded and checked (deliverCommit).
 */
export function applyIntact(writer: CheckpointStreamWriter, target: StreamTarget): void {
  for (let record = 0; record < writer.recordCount; record++) {
    const globals = writer.recordRegions[record] === REGION_GLOBALS;
    const into = globals ? target.globals : target.memory;
    const history = globals ? target.globalsHistory : target.memoryHistory;
    const older = globals ? target.globalsOlder : target.memoryOlder;
    const start = writer.recordStarts[record];
    const end = writer.recordEnds[record];
    const source = writer.recordSources[record];
    older.set(history.subarray(start, end), start);
    history.set(into.subarray(start, end), start);
    into.set(source.subarray(start, end), start);
  }
}

function readCommitHeader(stream: Uint8Array, view: DataView, length: number): { cycle: number; memoryLength: number; records: number } | null {
  if (length < COMMIT_HEADER_BYTES || view.getUint32(0, true) !== MAGIC) return null;
  if (crc32(stream.subarray(0, 16)) !== view.getUint32(16, true)) return null;
  return { cycle: view.getInt32(4, true), memoryLength: view.getUint32(8, true), records: view.getUint32(12, true) };
}

/**
 * XORs the zero-run payload in[at, end) into out[start, stop); false if it does not decode to exactly that
 * range. Bounded by the payload's length whatever its content: every step consumes at least one byte.
 */
function applyXorZeroRuns(input: Uint8Array, at: number, end: number, out: Uint8Array, start: number, stop: number): boolean {
  let i = at;
  let o = start;
  while (i < end) {
    let zeros = 0;
    let shift = 0;
    for (;;) {
      if (i >= end || shift > 28) return false;
      const byte = input[i++];
      zeros |= (byte & 0x7f) << shift;
      if (byte < 0x80) break;
      shift += 7;
    }
    let literals = 0;
    shift = 0;
    for (;;) {
      if (i >= end || shift > 28) return false;
      const byte = input[i++];
      literals |= (byte & 0x7f) << shift;
      if (byte < 0x80) break;
      shift += 7;
    }
    o += zeros;
    if (zeros < 0 || literals < 0 || o + literals > stop || i + literals > end) return false;
    for (let k = 0; k < literals; k++) out[o + k] ^= input[i + k];
    o += literals;
    i += literals;
  }
  return o === stop;
}
