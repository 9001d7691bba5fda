// The checkpoint: the committed state of the primary at the end of the last agreed cycle, held in shared
// memory (a SharedArrayBuffer, as the satellite's shared memory was) so that the spare processor can take
// it over at any moment. It is written only after both cores agreed (commitCheckpoint), never from a
// cycle under suspicion, and restoring it plus re-executing the logged inputs reproduces the primary
// exactly. The checkpoint is itself a target of upsets: its memory and global slots are exposed for that.
import type { Core } from '../core/core.js';
import { GlobalSlots } from '../core/global-slots.js';
import { ALL_BLOCKS, ensureMemorySize, memoryRanges, RANGES } from '../core/state.js';
import type { ValueTypeName } from '../passes/export-state.js';

const HEADER_BYTES = 16; // committed cycle, memory length, two spare words
const BOOT_CYCLE = -1;

export class Checkpoint {
  readonly buffer: SharedArrayBuffer;
  private readonly header: Int32Array;
  readonly globals: GlobalSlots;
  readonly memory: Uint8Array;
  /** Scrubbed ranges found different from the committed core and rewritten: upsets in the checkpoint. */
  repairs = 0;

  constructor(
    globalTypes: readonly ValueTypeName[],
    readonly memoryCapacity: number,
  ) {
    const globalsBytes = GlobalSlots.byteLength(globalTypes.length);
    this.buffer = new SharedArrayBuffer(HEADER_BYTES + globalsBytes + memoryCapacity);
    this.header = new Int32Array(this.buffer, 0, 4);
    this.globals = new GlobalSlots(globalTypes, this.buffer, HEADER_BYTES);
    this.memory = new Uint8Array(this.buffer, HEADER_BYTES + globalsBytes, memoryCapacity);
    this.header[0] = BOOT_CYCLE;
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
   * Commits the state of `core` at the end of `cycle`. Only the memory ranges of `written` (what the core
   * wrote since its last commit or restore) are copied: the rest of the checkpoint already equals the
   * core, unless an upset struck it there — which the `scrubbed` blocks check, copying only on a
   * difference (a read is cheap; a write into shared memory is not). A change of memory size copies all.
   */
  commitCheckpoint(core: Core, cycle: number, written: number = ALL_BLOCKS, scrubbed = 0): void {
    const bytes = core.memoryBytes();
    if (bytes.length > this.memoryCapacity) {
      throw new Error(`core ${core.name}: memory of ${bytes.length} bytes exceeds the checkpoint capacity of ${this.memoryCapacity}`);
    }
    const sameSize = bytes.length === this.header[1];
    let end = memoryRanges(core, sameSize ? written : ALL_BLOCKS, bytes.length);
    for (let i = 0; i < end; i += 2) bytes.copy(this.memory, RANGES[i], RANGES[i], RANGES[i + 1]);
    if (sameSize && scrubbed !== 0) {
      end = memoryRanges(core, scrubbed, bytes.length);
      for (let i = 0; i < end; i += 2) {
        if (bytes.compare(this.memory, RANGES[i], RANGES[i + 1], RANGES[i], RANGES[i + 1]) !== 0) {
          bytes.copy(this.memory, RANGES[i], RANGES[i], RANGES[i + 1]);
          this.repairs++;
        }
      }
    }
    const globals = core.globals;
    for (let i = 0; i < globals.length; i++) this.globals.store(i, globals[i].value as number | bigint);
    this.header[0] = cycle;
    this.header[1] = bytes.length;
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
