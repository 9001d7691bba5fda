// The cross-strap link between the two processors: the only way state gets from one to the other. Every
// epoch's commit, every round of a reintegration and every write to a replicated store travels over it,
// and takes modelled time: a fixed latency per transfer plus the bytes at the link's bandwidth. This is
// the one formula for that time (src/computer/timing.ts charges it to the modelled clock), and
// CrossStrapLink keeps the account of what a run sent, so that traffic is counted, never free.

/** The link's modelled performance, as the mission file gives it (mission field `link`). */
export interface LinkConfig {
  /** Payload bytes per second the link carries. */
  readonly bandwidthBytesPerSecond: number;
  /** Fixed time of one transfer (framing, the receiver's acknowledgement), s. */
  readonly latencySeconds: number;
}

/**
 * Defaults: a 1 Mbit/s cross-strap (MIL-STD-1553B's rate, the common bus for cross-strapped on-board
 * computers) with 100 µs per transfer. Slow on purpose: a full copy of a 64 KiB memory takes half a
 * second, so what is sent, and when, matters.
 */
export const DEFAULT_LINK: LinkConfig = { bandwidthBytesPerSecond: 125_000, latencySeconds: 100e-6 };

/** Modelled seconds to send `bytes` in one transfer over the link (nothing to send takes no time). */
export function transferSeconds(config: LinkConfig, bytes: number): number {
  return bytes > 0 ? config.latencySeconds + bytes / config.bandwidthBytesPerSecond : 0;
}

/** Bytes the link carries in `seconds` after one transfer's latency (0 when the time does not cover it). */
export function bytesWithin(config: LinkConfig, seconds: number): number {
  return seconds > config.latencySeconds ? Math.floor((seconds - config.latencySeconds) * config.bandwidthBytesPerSecond) : 0;
}

/** The account of one run's traffic on the link: transfers, bytes and busy time. */
export class CrossStrapLink {
  transfers = 0;
  bytes = 0;
  busySeconds = 0;

  constructor(readonly config: LinkConfig) {}

  /** Sends `bytes` in one transfer; returns its modelled seconds. */
  send(bytes: number): number {
    const seconds = transferSeconds(this.config, bytes);
    if (bytes > 0) {
      this.transfers++;
      this.bytes += bytes;
      this.busySeconds += seconds;
    }
    return seconds;
  }

  /** Fraction of `elapsedSeconds` the link was busy. */
  utilization(elapsedSeconds: number): number {
    return elapsedSeconds > 0 ? this.busySeconds / elapsedSeconds : 0;
  }
}
