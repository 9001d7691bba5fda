// Checkpoint epochs and the scrub: the rules that say when the cores' state is compared and committed,
// and which blocks are compared although nobody wrote them. The flight computer follows them cycle by
// cycle; the campaign runner follows the same schedule from the epoch an experiment starts in, so that
// both compare and commit at the same cycles and over the same blocks.
//
// An epoch is `interval` cycles: outputs are compared every cycle, the state at the epoch's last cycle,
// when the checkpoint is committed. Boot commits and starts epoch 1 at cycle 0; a commit at the end of
// cycle c starts the next epoch at c + 1; a rollback or a cold spare's boot starts a new epoch from the
// cycle after it. With no recovery, epoch k + 1 therefore covers cycles k·interval to (k + 1)·interval − 1.
//
// The scrub finds latent upsets in memory the flight software only reads. Between the two cores of the
// primary it compares four of the 32 blocks per epoch: all of memory every SCRUB_EPOCHS epochs. Between
// the primary and the checkpoint (repairing the checkpoint on a difference) one block per epoch: the whole
// checkpoint every CHECKPOINT_SCRUB_EPOCHS epochs, since reading shared memory costs about four times as
// much as reading a core's, and an upset in the checkpoint matters only if a failover comes before the repair.

export const SCRUB_EPOCHS = 8;
export const CHECKPOINT_SCRUB_EPOCHS = 32;
const SCRUB_BLOCKS = 32 / SCRUB_EPOCHS;

/** Blocks compared between the primary's cores at the end of epoch `epoch` although unwritten. */
export function scrubBlocks(epoch: number): number {
  return (((1 << SCRUB_BLOCKS) - 1) << (SCRUB_BLOCKS * (epoch % SCRUB_EPOCHS))) | 0;
}

/** The checkpoint block checked against the committed core at the end of epoch `epoch`. */
export function checkpointScrubBlocks(epoch: number): number {
  return 1 << (epoch % CHECKPOINT_SCRUB_EPOCHS);
}

/** Where the flight computer is in its epochs: the first cycle of the current one, and how many began. */
export class EpochSchedule {
  private constructor(
    readonly interval: number,
    /** First cycle of the current epoch: the checkpoint holds the state at its start. */
    private first: number,
    /** Epochs begun since boot (1 during the first): what the scrub rotates by. */
    private count: number,
  ) {
    if (!Number.isInteger(interval) || interval < 1) throw new RangeError(`checkpointInterval must be a whole number of cycles ≥ 1, not ${interval}`);
  }

  /** Before boot: no epoch yet. */
  static beforeBoot(interval: number): EpochSchedule {
    return new EpochSchedule(interval, 0, 0);
  }

  /** The epoch in progress at `cycle` of a run that has recovered from nothing (a golden run). */
  static undisturbedAt(cycle: number, interval: number): EpochSchedule {
    return new EpochSchedule(interval, 0, 0).moveToUndisturbed(cycle);
  }

  /** Moves to the epoch in progress at `cycle` of an undisturbed run (reusing this object). */
  moveToUndisturbed(cycle: number): this {
    const index = Math.floor(cycle / this.interval);
    this.first = index * this.interval;
    this.count = index + 1;
    return this;
  }

  get start(): number {
    return this.first;
  }

  get epoch(): number {
    return this.count;
  }

  /** Cycles of the current epoch up to and including `cycle`. */
  cyclesThrough(cycle: number): number {
    return cycle - this.first + 1;
  }

  /** Whether `cycle` is the last of the current epoch: the state is compared and committed at its end. */
  endsAt(cycle: number): boolean {
    return this.cyclesThrough(cycle) === this.interval;
  }

  /** Scrub blocks of the current epoch's end: between the primary's cores, and against the checkpoint. */
  scrub(): number {
    return scrubBlocks(this.count);
  }

  checkpointScrub(): number {
    return checkpointScrubBlocks(this.count);
  }

  /** A commit or a restore: the next epoch begins at `firstCycle`. */
  begin(firstCycle: number): void {
    this.first = firstCycle;
    this.count++;
  }

  /** While a cold spare boots nothing runs: the epoch it will fly keeps moving with the clock. */
  holdAt(cycle: number): void {
    this.first = cycle;
  }

  /** Asserts that `cycle` lies inside the current epoch (a broken schedule must not pass silently). */
  check(cycle: number): void {
    const through = this.cyclesThrough(cycle);
    if (through < 1 || through > this.interval) throw new Error(`epoch schedule: cycle ${cycle} outside the epoch that began at cycle ${this.first}`);
  }
}
