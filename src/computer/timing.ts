// The modelled clock: how long a control period takes on a CPU of the configured speed, and whether its
// commands met the deadline. The flight computer charges every cycle with it, and the campaign runner
// judges a failover with it, so that "recovered within the period" means the same to both. Traffic on
// the cross-strap link takes its time by the link's own formula (src/spare/link.ts, transferSeconds).
// The computer's one link is used in a fixed order within a period, so its users contend for it: a
// synchronous write of the persistent region before the commands (`linkWaitSeconds`, part of their
// time); after them an asynchronous write, the commit and a replica repair (`linkSeconds`); and what is
// left of the period — its slack — is what a reintegration's rounds may use.

export interface ClockConfig {
  /** Modelled CPU speed, instructions per second. */
  readonly clockHz: number;
  /** Control period, s: the deadline of every cycle's commands. */
  readonly controlPeriod: number;
  /** Modelled speed of copying a checkpoint into a processor, bytes per second. */
  readonly checkpointBytesPerSecond: number;
}

/**
 * Modelled seconds from the start of a period until its commands are ready: the instructions run until
 * the verdict, plus any recovery's (a replay, a cold boot), plus the checkpoint bytes restored, plus the
 * time the commands wait on the cross-strap link (a synchronous replica's acknowledgement).
 */
export function periodSeconds(config: ClockConfig, instructions: number, restoredBytes: number, linkWaitSeconds = 0): number {
  return instructions / config.clockHz + restoredBytes / config.checkpointBytesPerSecond + linkWaitSeconds;
}

/** Whether commands ready after `seconds` (or never: null) miss the period's deadline. */
export function missesDeadline(config: ClockConfig, seconds: number | null): boolean {
  return seconds === null || seconds > config.controlPeriod;
}

/**
 * Seconds of the period left once its commands are ready (`commandsSeconds`) and the traffic after them
 * (commit, store writes) has crossed the link (`linkSeconds`): negative when the period could not hold both.
 */
export function slackSeconds(config: ClockConfig, commandsSeconds: number, linkSeconds: number): number {
  return config.controlPeriod - commandsSeconds - linkSeconds;
}
