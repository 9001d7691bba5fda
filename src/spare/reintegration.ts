// Reintegration: bringing a processor reset after a failover back as the spare while the new primary
// keeps flying, as live migration brings a machine across. What the reset processor needs is the
// checkpoint (a hot spare holds nothing else); it travels over the cross-strap link, and until all of it
// has arrived the computer has no spare.
//   instant        the whole checkpoint at no cost (the model before the link existed);
//   stop-and-copy  the whole checkpoint at once at the failover's epoch boundary: the primary stops until
//                  it is across (downtime, in whole control periods, when it does not fit the period's slack);
//   precopy        rounds in each period's slack while the primary flies: the whole image first, then what
//                  commits changed meanwhile, until the remainder fits the slack of one epoch's last period
//                  (or the round limit is hit), then that remainder at an epoch boundary.
// This file keeps the account of one reintegration: the rounds, the bytes still to send, the blocks
// committed since the round began. The flight computer feeds it each period's slack and commits.
import { bytesWithin, transferSeconds, type CrossStrapLink } from './link.js';

export const REINTEGRATION_MODES = ['precopy', 'stop-and-copy', 'instant'] as const;
export type ReintegrationMode = (typeof REINTEGRATION_MODES)[number];

/** Pre-copy rounds before the remainder is sent whatever its size (live migration's usual bound is a few). */
export const DEFAULT_MAX_ROUNDS = 8;

/** What a period of reintegration came to. */
export type ReintegrationStep = 'continue' | 'done' | 'stop-for-copy';

export class Reintegration {
  /** Rounds begun (the whole image is round 1; the final remainder counts as a round). */
  rounds = 0;
  /** Bytes sent so far. */
  bytes = 0;
  /** Bytes of the current round not yet sent. */
  private pending = 0;
  /** Blocks committed since the current round began: what the next round sends again. */
  dirty = 0;
  /** Bytes of a stop-and-copy under way: the primary is stopped until they are across. */
  stoppedBytes = 0;
  /** Modelled time the last byte arrived, s (set when the last round is sent). */
  finishedAt = Number.NaN;

  constructor(
    readonly mode: Exclude<ReintegrationMode, 'instant'>,
    readonly link: CrossStrapLink,
    readonly maxRounds: number,
    readonly controlPeriod: number,
    /** Modelled time the reintegration began (the end of the failover's period), s. */
    readonly startedAt: number,
  ) {}

  /**
   * Starts from the whole checkpoint (`imageBytes`). Stop-and-copy sends it now (`now`, modelled s), in
   * the failover period's remaining `slackSeconds`: 'done' if it fits, else 'stop-for-copy' (the primary
   * stops); pre-copy begins its first round.
   */
  begin(imageBytes: number, now: number, slackSeconds: number): ReintegrationStep {
    this.rounds = 1;
    if (this.mode === 'stop-and-copy') return this.copyAll(imageBytes, now, slackSeconds);
    this.pending = imageBytes;
    return 'continue';
  }

  /**
   * One period of the primary flying: `committed` the blocks its commit changed (0 when it did not
   * commit), `bytesOf` the bytes a block mask's ranges and the globals take, `slackSeconds` what is left of
   * the period once its commands are out. Sends what fits; at an epoch boundary with the remainder small
   * enough, sends it and is done.
   */
  period(committed: number, epochEnds: boolean, now: number, slackSeconds: number, bytesOf: (mask: number) => number): ReintegrationStep {
    this.dirty |= committed;
    let slack = slackSeconds;
    if (this.pending > 0) {
      const sent = Math.min(this.pending, bytesWithin(this.link.config, slack));
      this.pending -= sent;
      this.bytes += sent;
      slack -= this.link.send(sent);
      if (this.pending > 0) return 'continue';
    }
    const remainder = bytesOf(this.dirty);
    const seconds = transferSeconds(this.link.config, remainder);
    if (epochEnds && (seconds <= slack || this.rounds >= this.maxRounds)) {
      // At an epoch boundary, just after its commit: the remainder goes now, the last round.
      this.rounds++;
      return this.copyAll(remainder, now + slackSeconds - slack, slack);
    }
    if (seconds > slackSeconds && this.rounds < this.maxRounds) {
      // Too much changed during the round to finish in one period: another round, in the background.
      this.rounds++;
      this.pending = remainder;
      this.dirty = 0;
    }
    return 'continue';
  }

  /**
   * Sends `bytes` at once from `now`: 'done' if they fit in `slackSeconds`, else the primary stops until
   * they are across ('stop-for-copy', for downtimeCycles periods).
   */
  private copyAll(bytes: number, now: number, slackSeconds: number): ReintegrationStep {
    this.bytes += bytes;
    const seconds = this.link.send(bytes);
    this.finishedAt = now + seconds;
    if (seconds <= slackSeconds) return 'done';
    this.stoppedBytes = bytes;
    this.downtimeCycles = Math.ceil((seconds - slackSeconds) / this.controlPeriod);
    return 'stop-for-copy';
  }

  /** Control periods the primary stays stopped for a copy that did not fit the slack it began in. */
  downtimeCycles = 0;
}
