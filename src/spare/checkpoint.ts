// The checkpoint: the committed state of the primary at the end of the last agreed cycle, held in shared
// memory (a SharedArrayBuffer, as the satellite's shared memory was) so that the spare processor can take
// it over at any moment. It is written only after both cores agreed (commitCheckpoint), never from a
// cycle under suspicion, and restoring it plus re-executing the logged inputs reproduces the primary
// exactly. The checkpoint is itself a target of upsets: its memory and global slots are exposed for that.
// A commit reaches it as a stream over the cross-strap link (checkpoint-stream.ts): this image stands for
// the committed copy both ends hold, which the sender encodes against and the receiver applies onto.
// Both ends also keep two histories, what predictive records predict from: each byte as it was before the
// last commit that carried it, and before the one before (checkpoint-stream.ts keeps them as it applies
// records).
import type { Core } from '../core/core.js';
import { GlobalSlots } from '../core/global-slots.js';
import { ALL_BLOCKS, ensureMemorySize, memoryRanges, RANGES } from '../core/state.js';
import type { ValueTypeName } from '../passes/export-state.js';
import { applyIntact, applyStream, CheckpointStreamWriter, REGION_GLOBALS, REGION_MEMORY, type ApplyResult, type StreamEncoding, type StreamTarget } from './checkpoint-stream.js';

const HEADER_BYTES = 16; // committed cycle, memory length, two spare words
const BOOT_CYCLE = -1;

export class Checkpoint {
  readonly buffer: SharedArrayBuffer;
  private readonly header: Int32Array;
  readonly globals: GlobalSlots;
  readonly memory: Uint8Array;
  /** Scrubbed ranges found different from the committed core and rewritten: upsets in the checkpoint. */
  repairs = 0;
  /** The core's globals as the next commit sends them. */
  private readonly nextGlobals: GlobalSlots;
  private readonly target: StreamTarget;
  /** The memory ranges a commit being encoded has sent (grown to twice the most a mask gives). */
  private readonly sentRanges = new Int32Array(2 * RANGES.length);
  /** The stream of commits made without a link in between. */
  private readonly writer: CheckpointStreamWriter;

  constructor(
    globalTypes: readonly ValueTypeName[],
    readonly memoryCapacity: number,
    encoding: StreamEncoding = 'predictive',
  ) {
    const globalsBytes = GlobalSlots.byteLength(globalTypes.length);
    this.buffer = new SharedArrayBuffer(HEADER_BYTES + globalsBytes + memoryCapacity);
    this.header = new Int32Array(this.buffer, 0, 4);
    this.globals = new GlobalSlots(globalTypes, this.buffer, HEADER_BYTES);
    this.memory = new Uint8Array(this.buffer, HEADER_BYTES + globalsBytes, memoryCapacity);
    this.header[0] = BOOT_CYCLE;
    this.nextGlobals = new GlobalSlots(globalTypes);
    this.target = {
      memory: this.memory,
      globals: this.globals.bytes,
      memoryHistory: new Uint8Array(memoryCapacity),
      globalsHistory: new Uint8Array(globalsBytes),
      memoryOlder: new Uint8Array(memoryCapacity),
      globalsOlder: new Uint8Array(globalsBytes),
    };
    this.writer = this.newWriter(encoding);
  }

  /** A stream writer sized for this checkpoint. */
  newWriter(encoding: StreamEncoding): CheckpointStreamWriter {
    return new CheckpointStreamWriter(this.memoryCapacity, this.globals.bytes.length, encoding);
  }

  /** The cycle whose end state this checkpoint holds (-1: the state right after boot). */
  get cycle(): number {
    return this.header[0];
  }

  /** Bytes of linear memory held. */
  get memoryLength(): number {
    return this.header[1];
  }

  /**
   * Encodes the commit of `core`'s state at the end of `cycle` into `writer`, as the checkpoint stream
   * sends it over the link (src/spare/checkpoint-stream.ts). Only the memory ranges of `written` (what the
   * core wrote since its last commit or restore) are sent: the rest of the checkpoint already equals the
   * core, unless an upset struck it there — which the `scrubbed` ranges check, sending only on a
   * difference (a read is cheap; a write into shared memory is not). A change of memory size sends all.
   */
  encodeCommit(writer: CheckpointStreamWriter, core: Core, cycle: number, written: number = ALL_BLOCKS, scrubbed = 0): void {
    const bytes = core.memoryBytes();
    if (bytes.length > this.memoryCapacity) {
      throw new Error(`core ${core.name}: memory of ${bytes.length} bytes exceeds the checkpoint capacity of ${this.memoryCapacity}`);
    }
    writer.begin(cycle, bytes.length);
    const sameSize = bytes.length === this.header[1];
    const { memoryHistory, memoryOlder } = this.target;
    // Records never overlap: a range's store tail (MAX_STORE_BYTES) reaches into the next block, and a
    // receiver applies records in order, each predicted or XOR-ed against what the one before left.
    const sent = this.sentRanges;
    let count = 0;
    let end = memoryRanges(core, sameSize ? written : ALL_BLOCKS, bytes.length);
    for (let i = 0, cursor = 0; i < end; i += 2) {
      const start = Math.max(RANGES[i], cursor);
      const stop = RANGES[i + 1];
      if (stop <= start) continue;
      writer.add(REGION_MEMORY, this.memory, memoryHistory, memoryOlder, bytes, start, stop);
      sent[count++] = start;
      sent[count++] = stop;
      cursor = stop;
    }
    if (sameSize && scrubbed !== 0) {
      end = memoryRanges(core, scrubbed, bytes.length);
      for (let i = 0, cursor = 0, j = 0; i < end; i += 2) {
        // The parts of this scrubbed range that no written range sent, each sent if it differs.
        let repaired = false;
        let start = Math.max(RANGES[i], cursor);
        const stop = RANGES[i + 1];
        while (start < stop) {
          while (j < count && sent[j + 1] <= start) j += 2;
          if (j < count && sent[j] <= start) {
            start = sent[j + 1];
            continue;
          }
          const pieceEnd = j < count ? Math.min(stop, sent[j]) : stop;
          if (bytes.compare(this.memory, start, pieceEnd, start, pieceEnd) !== 0) {
            writer.add(REGION_MEMORY, this.memory, memoryHistory, memoryOlder, bytes, start, pieceEnd);
            repaired = true;
          }
          start = pieceEnd;
        }
        cursor = Math.max(cursor, stop);
        if (repaired) this.repairs++;
      }
    }
    const globals = core.globals;
    const next = this.nextGlobals;
    for (let i = 0; i < globals.length; i++) next.store(i, globals[i].value as number | bigint);
    writer.add(REGION_GLOBALS, this.globals.bytes, this.target.globalsHistory, this.target.globalsOlder, next.bytes, 0, next.bytes.length);
    writer.finish();
  }

  /**
   * The receiving end: applies `stream[from, length)` of a commit (every record checked before it is
   * applied) and, once the whole commit is in, takes its cycle and memory length.
   */
  receive(stream: Uint8Array, length: number, from = 0): ApplyResult {
    const result = applyStream(stream, length, this.target, from);
    if (result.complete) {
      this.header[0] = result.cycle;
      this.header[1] = result.memoryLength;
    }
    return result;
  }

  /** Takes the commit `writer` has just encoded as a link that flipped nothing would deliver it (applyIntact). */
  receiveIntact(writer: CheckpointStreamWriter): void {
    applyIntact(writer, this.target);
    this.header[0] = writer.cycle;
    this.header[1] = writer.memoryLength;
  }

  /**
   * A spare reintegrated holds the checkpoint but no history: both ends start predicting from the copy
   * itself (as after boot), so the two ends stay the same.
   */
  resetHistory(): void {
    for (const history of [this.target.memoryHistory, this.target.memoryOlder]) history.set(this.memory);
    for (const history of [this.target.globalsHistory, this.target.globalsOlder]) history.set(this.globals.bytes);
  }

  /** Clears the copy and its history, as a checkpoint before boot holds them (campaigns' link rig). */
  clear(): void {
    this.memory.fill(0);
    this.globals.bytes.fill(0);
    for (const history of [this.target.memoryHistory, this.target.memoryOlder, this.target.globalsHistory, this.target.globalsOlder]) history.fill(0);
    this.header[0] = BOOT_CYCLE;
    this.header[1] = 0;
  }

  /** Commits `core`'s state at the end of `cycle` through a stream no fault touches (boot, tests). */
  commitCheckpoint(core: Core, cycle: number, written: number = ALL_BLOCKS, scrubbed = 0): void {
    this.encodeCommit(this.writer, core, cycle, written, scrubbed);
    this.receiveIntact(this.writer);
  }

  restoreInto(core: Core): void {
    const length = this.header[1];
    ensureMemorySize(core, length);
    const target = core.memoryBytes();
    target.set(this.memory.subarray(0, length));
    if (target.length > length) target.fill(0, length);
    const globals = core.globals;
    for (let i = 0; i < globals.length; i++) globals[i].value = this.globals.load(i);
  }
}
