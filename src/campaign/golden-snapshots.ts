// The golden run's snapshots: the core's whole state and the spacecraft's, every `interval` cycles, kept
// in as little memory as restores allow. Snapshots differ from the first one only in the blocks the golden
// run has written so far, so each keeps only those blocks' bytes (as memoryRanges extends them), over one
// base image of the memory at the first cycle; the spacecraft, the globals and the layout of each are
// packed in typed arrays. Their spacing starts at the campaign's snapshot interval and doubles whenever
// they would outgrow their memory budget: restoring an earlier snapshot and stepping forward on the golden
// inputs reaches the same state, so the spacing changes how long a restore takes, never a result.
import { Core } from '../core/core.js';
import { ALL_BLOCKS, memoryRanges, RANGES } from '../core/state.js';
import type { Spacecraft, SpacecraftSnapshot } from '../plant/spacecraft.js';

/** Bytes a stored snapshot costs beyond its memory bytes: its Uint8Array and ArrayBuffer, and its backing store's bookkeeping. */
export const SNAPSHOT_OVERHEAD_BYTES = 256;

/** The memory bytes a snapshot keeps: the byte ranges of the blocks written so far, for one memory size. */
interface Layout {
  readonly written: number;
  readonly memoryLength: number;
  /** [start0, end0, start1, end1, …] */
  readonly ranges: Int32Array;
  readonly bytes: number;
}

/** How a spacecraft snapshot lies in its packed slots. */
interface SpacecraftLayout {
  readonly state: number;
  readonly commanded: number;
  readonly applied: number;
  readonly generator: number;
  /** state, commanded, applied, generator, then 1 if a spare normal draw is held, and the draw. */
  readonly slots: number;
}

export class GoldenSnapshots {
  /** Cycles between the stored snapshots: the campaign's snapshot interval, doubled as often as the budget required. */
  interval: number;
  /** Snapshots stored: snapshot i holds the state at the start of cycle i × interval. */
  count = 0;
  /** Bytes the stored memory ranges take, with their per-snapshot overhead: what the budget bounds. */
  payloadBytes = 0;

  private readonly base: Uint8Array;
  private readonly data: Uint8Array[] = [];
  private readonly layouts: Layout[] = [];
  private readonly layoutOf: Int32Array;
  private readonly globalCount: number;
  /** Whether each global holds an i64 (a bigint), kept in `bigGlobals`; the others in `numberGlobals`. */
  private readonly bigint: boolean[];
  private readonly numberGlobals: Float64Array;
  private readonly bigGlobals: BigInt64Array;
  private spacecraftLayout: SpacecraftLayout | null = null;
  private spacecraft: Float64Array;

  /**
   * @param core the golden core at the first cycle (after boot): its memory becomes the base image.
   * @param cycles the golden run's length, which bounds how many snapshots there can be.
   */
  constructor(
    core: Core,
    readonly minInterval: number,
    cycles: number,
    readonly budgetBytes: number,
  ) {
    if (!Number.isSafeInteger(minInterval) || minInterval < 1) throw new Error(`snapshot interval ${minInterval}: must be a whole number of cycles, at least 1`);
    this.interval = minInterval;
    this.base = new Uint8Array(core.memoryBytes());
    const capacity = Math.max(1, Math.ceil(cycles / minInterval));
    this.layoutOf = new Int32Array(capacity);
    this.globalCount = core.globals.length;
    this.bigint = core.globals.map((global) => typeof global.value === 'bigint');
    this.numberGlobals = new Float64Array(capacity * this.globalCount);
    this.bigGlobals = new BigInt64Array(this.bigint.some(Boolean) ? capacity * this.globalCount : 0);
    this.spacecraft = new Float64Array(0);
  }

  /** Bytes of memory at the first cycle: the base image's. */
  get memoryBytes(): number {
    return this.base.length;
  }

  /** Everything the snapshots hold: the base image, the packed columns (sized for the shortest interval) and the stored ranges. */
  get bytes(): number {
    return this.base.byteLength + this.layoutOf.byteLength + this.numberGlobals.byteLength + this.bigGlobals.byteLength + this.spacecraft.byteLength + this.payloadBytes;
  }

  /** The snapshot to restore for `cycle`: the last one at or before it. */
  indexFor(cycle: number): number {
    return Math.min(this.count - 1, Math.floor(cycle / this.interval));
  }

  cycleOf(index: number): number {
    return index * this.interval;
  }

  memoryLength(index: number): number {
    return this.layouts[this.layoutOf[index]].memoryLength;
  }

  /**
   * Stores the state at the start of `cycle` (a multiple of `interval`): the core, with `written` the
   * blocks the golden run wrote before it, and the spacecraft. When the budget would be exceeded, every
   * other stored snapshot is dropped and the interval doubles; the cycle is then stored only if it is
   * still on the grid.
   */
  take(cycle: number, core: Core, written: number, spacecraft: SpacecraftSnapshot): void {
    if (cycle !== this.count * this.interval) throw new Error(`golden snapshot at cycle ${cycle}: the next one is due at cycle ${this.count * this.interval}`);
    const memory = core.memoryBytes();
    const layout = this.layoutFor(core, written, memory.length);
    const cost = layout.bytes + SNAPSHOT_OVERHEAD_BYTES;
    while (this.count > 0 && this.payloadBytes + cost > this.budgetBytes) {
      this.thin();
      if (cycle % this.interval !== 0) return;
    }
    const index = this.count;
    const data = new Uint8Array(layout.bytes);
    let offset = 0;
    for (let i = 0; i < layout.ranges.length; i += 2) {
      data.set(memory.subarray(layout.ranges[i], layout.ranges[i + 1]), offset);
      offset += layout.ranges[i + 1] - layout.ranges[i];
    }
    this.data.push(data);
    this.layoutOf[index] = this.layouts.indexOf(layout);
    for (let i = 0; i < this.globalCount; i++) {
      const value = core.globals[i].value as number | bigint;
      if (this.bigint[i]) this.bigGlobals[index * this.globalCount + i] = value as bigint;
      else this.numberGlobals[index * this.globalCount + i] = value as number;
    }
    this.packSpacecraft(index, spacecraft);
    this.payloadBytes += cost;
    this.count++;
  }

  /**
   * Restores a core to snapshot `index`. Only the memory blocks in `blocks` are restored (with the blocks
   * the snapshot stores): a core that already holds some golden state differs from any other golden
   * snapshot only where the golden run writes, and where the core itself wrote or was struck since —
   * which the caller knows. ALL_BLOCKS restores everything.
   */
  restore(core: Core, index: number, blocks: number = ALL_BLOCKS): void {
    const layout = this.layouts[this.layoutOf[index]];
    let target = core.memoryBytes();
    if (target.length !== layout.memoryLength) {
      if (target.length > layout.memoryLength) throw new Error(`core ${core.name}: memory grew past the golden run's; restore a fresh core`);
      core.memory.grow((layout.memoryLength - target.length) / 65536);
      target = core.memoryBytes();
      blocks = ALL_BLOCKS;
    }
    // Where the golden run had written nothing yet, memory holds the base image (zeros where it grew since).
    const base = this.base;
    if (blocks === ALL_BLOCKS) {
      target.set(base);
      target.fill(0, base.length);
    } else if ((blocks & ~layout.written) !== 0) {
      const end = memoryRanges(core, blocks & ~layout.written, target.length);
      for (let i = 0; i < end; i += 2) {
        const start = RANGES[i];
        const stop = RANGES[i + 1];
        if (start < base.length) target.set(base.subarray(start, Math.min(stop, base.length)), start);
        if (stop > base.length) target.fill(0, Math.max(start, base.length), stop);
      }
    }
    const data = this.data[index];
    const ranges = layout.ranges;
    let offset = 0;
    for (let i = 0; i < ranges.length; i += 2) {
      const length = ranges[i + 1] - ranges[i];
      target.set(data.subarray(offset, offset + length), ranges[i]);
      offset += length;
    }
    for (let i = 0; i < this.globalCount; i++) {
      core.globals[i].value = this.bigint[i] ? this.bigGlobals[index * this.globalCount + i] : this.numberGlobals[index * this.globalCount + i];
    }
    core.clearDirtyBlocks();
  }

  /** Restores the spacecraft (noise stream included) to its state at the start of snapshot `index`'s cycle. */
  restoreSpacecraft(spacecraft: Spacecraft, index: number): void {
    const layout = this.spacecraftLayout!;
    const slots = this.spacecraft.subarray(index * layout.slots, (index + 1) * layout.slots);
    let offset = 0;
    const take = (length: number) => slots.subarray(offset, (offset += length));
    const state = take(layout.state);
    const commanded = take(layout.commanded);
    const applied = take(layout.applied);
    const generator = Array.from(take(layout.generator));
    spacecraft.restore({ state, commanded, applied, random: { generator, spareNormal: slots[offset] === 1 ? slots[offset + 1] : undefined } });
  }

  /** The wheel command latched at the start of snapshot `index`'s cycle (the spacecraft's `commanded`). */
  commanded(index: number): Float64Array {
    const layout = this.spacecraftLayout!;
    const start = index * layout.slots + layout.state;
    return this.spacecraft.subarray(start, start + layout.commanded);
  }

  private layoutFor(core: Core, written: number, memoryLength: number): Layout {
    const known = this.layouts.find((layout) => layout.written === written && layout.memoryLength === memoryLength);
    if (known) return known;
    const ranges = RANGES.slice(0, memoryRanges(core, written, memoryLength));
    let bytes = 0;
    for (let i = 0; i < ranges.length; i += 2) bytes += ranges[i + 1] - ranges[i];
    const layout = { written, memoryLength, ranges, bytes };
    this.layouts.push(layout);
    return layout;
  }

  /** Keeps every other snapshot (0, 2, 4, …) and doubles the interval. */
  private thin(): void {
    const slots = this.spacecraftLayout?.slots ?? 0;
    const g = this.globalCount;
    let kept = 0;
    let payload = 0;
    for (let index = 0; index < this.count; index += 2, kept++) {
      this.data[kept] = this.data[index];
      this.layoutOf[kept] = this.layoutOf[index];
      this.numberGlobals.copyWithin(kept * g, index * g, (index + 1) * g);
      if (this.bigGlobals.length > 0) this.bigGlobals.copyWithin(kept * g, index * g, (index + 1) * g);
      this.spacecraft.copyWithin(kept * slots, index * slots, (index + 1) * slots);
      payload += this.data[kept].byteLength + SNAPSHOT_OVERHEAD_BYTES;
    }
    this.data.length = kept;
    this.count = kept;
    this.payloadBytes = payload;
    this.interval *= 2;
  }

  private packSpacecraft(index: number, snapshot: SpacecraftSnapshot): void {
    if (!this.spacecraftLayout) {
      const layout = { state: snapshot.state.length, commanded: snapshot.commanded.length, applied: snapshot.applied.length, generator: snapshot.random.generator.length };
      this.spacecraftLayout = { ...layout, slots: layout.state + layout.commanded + layout.applied + layout.generator + 2 };
      this.spacecraft = new Float64Array(this.layoutOf.length * this.spacecraftLayout.slots);
    }
    const layout = this.spacecraftLayout;
    let offset = index * layout.slots;
    for (const part of [snapshot.state, snapshot.commanded, snapshot.applied, snapshot.random.generator]) {
      for (let i = 0; i < part.length; i++) this.spacecraft[offset++] = part[i];
    }
    const spare = snapshot.random.spareNormal;
    this.spacecraft[offset++] = spare === undefined ? 0 : 1;
    this.spacecraft[offset] = spare ?? 0;
  }
}
