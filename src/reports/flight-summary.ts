// The summary of a `lockstep fly` run: the machine-readable object written by --json (its fields are
// documented in docs/cli.md) and the human text printed at the end of a run. The summary puts the faulty
// run beside the fault-free run of the same seed: matching command digests are the proof that upsets
// cost the spacecraft nothing.
import type { DebugOutputSummary, FlightSetup, RunResult } from '../mission/fly.js';
import type { RealTimeSummary } from '../mission/realtime.js';
import { formatVerdicts, judgeFlight, type FlightGateOptions, type RequirementVerdict } from './requirements.js';

/** The run's counters as the run reports them; the rest is put in the summary's own terms. */
type RunCounters = Pick<
  RunResult,
  'cycles' | 'upsetsInjected' | 'failovers' | 'missedDeadlines' | 'detections' | 'undetectedDivergences' | 'undetectedDivergentCycles' | 'commandDigest' | 'checkpoint' | 'reintegration' | 'health' | 'debug' | 'events'
>;

/** What any flight's summary holds, whoever flew the spacecraft (lockstep's plant, or 42). */
export interface RunSummary extends RunCounters {
  seed: number;
  scenario: string;
  fsw: string;
  spare: string;
  /** pair (lock-step pairs) or tmr (three cores voting). */
  redundancy: string;
  /** Two cores in lock-step per processor, or one (no comparator). */
  lockstep: boolean;
  compareState: boolean;
  mismatchKinds: RunResult['detectionsByMismatch'];
  pointing: {
    requirementDeg: number;
    settleTimeS: number;
    maxErrorDegAfterSettling: number;
    rmsErrorDegAfterSettling: number;
    finalErrorDeg: number;
    met: boolean;
    /** Whether the mission lasted beyond the settling time, so that `met` says something. */
    evaluated: boolean;
  };
  timing: {
    clockHz: number;
    controlPeriodMs: number;
    watchdogInstructions: number;
    maxCycleMs: number;
    meanCycleMs: number;
    maxRecoveryMs: number;
  };
  /** The replicated persistent store, for flight software with a persistent region flown with a spare; else null. */
  persistentStore: RunResult['persistentStore'];
  /** With --realtime: wall-clock latency, jitter and overruns of the cycles (src/mission/realtime.ts). */
  realtime?: RealTimeSummary;
}

export interface FlySummary extends RunSummary {
  faultFreeCommandDigest: string;
  matchesFaultFree: boolean;
  /** The CI gates' verdicts, one per requirement (src/reports/requirements.ts). */
  requirements: RequirementVerdict[];
}

export function summarizeFlight(setup: FlightSetup, run: RunResult, faultFree: RunResult, gates: FlightGateOptions = {}): FlySummary {
  const { events, realtime, ...summary } = summarizeRun(setup, run);
  const compared = { ...summary, faultFreeCommandDigest: faultFree.commandDigest, matchesFaultFree: run.commandDigest === faultFree.commandDigest };
  return {
    ...compared,
    ...(realtime ? { realtime } : {}),
    requirements: judgeFlight(compared, setup.mission, gates),
    events,
  };
}

/** The summary of a run, in the summary's own terms (the pointing from whatever the run noted). */
export function summarizeRun(setup: FlightSetup, run: RunResult): RunSummary {
  const { scenario, mission, computer } = setup;
  const pointing = run.pointingErrorsAfterSettle;
  return {
    seed: mission.seed,
    scenario: scenario.name,
    fsw: setup.flightModule.source,
    spare: mission.spare,
    redundancy: mission.redundancy,
    lockstep: mission.lockstep,
    compareState: mission.compareState,
    cycles: run.cycles,
    upsetsInjected: run.upsetsInjected,
    failovers: run.failovers,
    missedDeadlines: run.missedDeadlines,
    detections: run.detections,
    mismatchKinds: run.detectionsByMismatch,
    undetectedDivergences: run.undetectedDivergences,
    undetectedDivergentCycles: run.undetectedDivergentCycles,
    pointing: {
      requirementDeg: scenario.pointingRequirementDeg,
      settleTimeS: scenario.settleTime,
      maxErrorDegAfterSettling: pointing.max,
      rmsErrorDegAfterSettling: pointing.rms,
      finalErrorDeg: run.finalPointingErrorDeg,
      // A mission that ends before the settling time has not shown that it meets the requirement.
      met: pointing.samples > 0 && pointing.max <= scenario.pointingRequirementDeg,
      evaluated: pointing.samples > 0,
    },
    commandDigest: run.commandDigest,
    timing: {
      clockHz: computer.clockHz,
      controlPeriodMs: computer.controlPeriod * 1000,
      watchdogInstructions: computer.watchdogInstructions,
      ...run.timing,
    },
    persistentStore: run.persistentStore,
    checkpoint: run.checkpoint,
    reintegration: run.reintegration,
    health: run.health,
    ...(run.realtime ? { realtime: run.realtime } : {}),
    ...(run.debug ? { debug: run.debug } : {}),
    events: run.events,
  };
}

/**
 * The cross-strap link's lines: commits on it, with how busy the link was (all its traffic: commits,
 * reintegrations, the persistent store), and reintegrations (only when the run had a spare to send to).
 */
function formatLinkLines(summary: RunSummary): string[] {
  const c = summary.checkpoint;
  const r = summary.reintegration;
  const lines: string[] = [];
  if (c.commits > 0) {
    const reduction = c.bytesPerCommitMean > 0 ? (1 - c.compressedBytesPerCommitMean / c.bytesPerCommitMean) * 100 : 0;
    lines.push(
      `  checkpoint link      ${c.commits} commits: ${c.bytesPerCommitMean.toFixed(0)} B raw → ${c.compressedBytesPerCommitMean.toFixed(0)} B on the link per commit (${c.compressionRatio.toFixed(2)}×, ${reduction.toFixed(1)}% less; max ${c.bytesPerCommitMax} → ${c.compressedBytesPerCommitMax}); link busy ${(c.linkUtilization * 100).toFixed(2)}% (all traffic)${c.resends ? `; ${c.resends} resent after a check failed` : ''}${c.linkOverruns ? `; ${c.linkOverruns} periods overran` : ''}`,
    );
  }
  if (r.count > 0 || r.downtimeCycles > 0) {
    lines.push(
      `  reintegration        ${r.count} × ${r.mode}: ${r.roundsMean.toFixed(1)} rounds, ${r.bytesTotal} B, ${r.simplexSecondsTotal.toFixed(3)} s without a spare, ${r.downtimeCycles} downtime cycles`,
    );
  }
  return lines;
}

/** Health management's line, when it had something to say: processors declared failed, spare failures. */
function formatHealthLine(summary: RunSummary): string[] {
  const h = summary.health;
  if (h.failedProcessors.length === 0 && h.spareFailuresDetected === 0) return [];
  const degraded = h.degradedAtCycle === null ? 'the spare took its place' : `degraded from cycle ${h.degradedAtCycle}`;
  const failed = h.failedProcessors.length > 0 ? `${h.failedProcessors.join(', ')} declared failed, ${degraded}` : 'no processor declared failed';
  return [`  health               ${failed}; spare failures detected ${h.spareFailuresDetected}${h.heartbeatLatencyCyclesMax > 0 ? `, heartbeat latency max ${h.heartbeatLatencyCyclesMax} cycles` : ''}`];
}

const arcsec = (deg: number) => `${(deg * 3600).toFixed(1)}″`;

export function formatFlightSummary(summary: FlySummary): string {
  return [
    `lockstep fly — ${summary.scenario} mission, seed ${summary.seed}, ${summary.redundancy === 'tmr' ? 'TMR, ' : ''}spare ${summary.spare}${summary.lockstep ? '' : ', one core per processor (no lock-step)'}${summary.compareState || !summary.lockstep ? '' : ', outputs-only comparison'}`,
    ...formatRunLines(summary),
    `  command stream       ${summary.commandDigest.slice(0, 16)}… ${summary.matchesFaultFree ? 'identical to the fault-free run: no cycle lost' : `DIFFERS from the fault-free run (${summary.faultFreeCommandDigest.slice(0, 16)}…)`}`,
    ...formatVerdicts(summary.requirements),
  ].join('\n');
}

/** The lines every flight's summary prints: counts, pointing, modelled timing and real time. */
export function formatRunLines(summary: RunSummary): string[] {
  const p = summary.pointing;
  const d = summary.detections;
  const seconds = (summary.cycles * summary.timing.controlPeriodMs) / 1000;
  return [
    `  cycles               ${summary.cycles} (${seconds.toFixed(1)} s at ${summary.timing.controlPeriodMs} ms)`,
    `  upsets injected      ${summary.upsetsInjected}`,
    `  detections           ${d.mismatch} mismatch (${summary.mismatchKinds.outputs} outputs, ${summary.mismatchKinds.state} state), ${d.trap} trap, ${d.watchdog} watchdog${d.check ? `, ${d.check} software check` : ''}${d.abort ? `, ${d.abort} abort` : ''}`,
    `  failovers            ${summary.failovers}`,
    `  missed deadlines     ${summary.missedDeadlines}`,
    `  undetected divergences ${summary.undetectedDivergences} (${summary.undetectedDivergentCycles} cycles)`,
    `  pointing             max ${p.maxErrorDegAfterSettling.toFixed(4)}° (${arcsec(p.maxErrorDegAfterSettling)}), rms ${p.rmsErrorDegAfterSettling.toFixed(4)}° after ${p.settleTimeS} s; requirement ${p.requirementDeg}°: ${p.met ? 'MET' : !p.evaluated ? 'not evaluated (mission shorter than the settling time)' : 'NOT MET'}`,
    `  timing               cycle max ${summary.timing.maxCycleMs.toFixed(3)} ms, mean ${summary.timing.meanCycleMs.toFixed(3)} ms; worst detection+recovery ${summary.timing.maxRecoveryMs.toFixed(3)} ms; period ${summary.timing.controlPeriodMs} ms at ${(summary.timing.clockHz / 1e6).toFixed(1)} MIPS`,
    ...formatLinkLines(summary),
    ...formatHealthLine(summary),
    ...(summary.persistentStore
      ? [
          `  persistent store     ${summary.persistentStore.regionBytes} bytes, ${summary.persistentStore.replication} replication: ${summary.persistentStore.bytesPerCycleMean.toFixed(1)} bytes/cycle on the link, commands waited ${summary.persistentStore.linkWaitMsMean.toFixed(3)} ms/cycle (max ${summary.persistentStore.linkWaitMsMax.toFixed(3)}); cold boots from the replica ${summary.persistentStore.bootsFromReplica}, from the initial image (checksum failed) ${summary.persistentStore.bootsFromInitialImage}${summary.persistentStore.lostWrites ? `; ${summary.persistentStore.lostWrites} writes lost in flight` : ''}`,
        ]
      : []),
    ...(summary.realtime
      ? [
          `  real time            ${summary.realtime.factor}× (period ${summary.realtime.periodMs} ms): latency p50 ${summary.realtime.latencyP50Ms.toFixed(3)} ms, p99 ${summary.realtime.latencyP99Ms.toFixed(3)} ms, max ${summary.realtime.latencyMaxMs.toFixed(3)} ms; start jitter p99 ${summary.realtime.jitterP99Ms.toFixed(3)} ms; ${summary.realtime.overruns} overrun${summary.realtime.overruns === 1 ? '' : 's'}`,
        ]
      : []),
    ...(summary.debug ? [`  debug values         ${summary.debug.map(formatDebugOutput).join('; ')}`] : []),
  ];
}

/** One debug output's line item: its last released value and its range, "gyro_bias_x 1.2e-5 (−3.1e-5 … 4.0e-5)". */
function formatDebugOutput(output: DebugOutputSummary): string {
  const number = (value: number | null) => (value === null ? '–' : value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e6) ? value.toExponential(2) : value.toPrecision(3));
  return output.released === 0 ? `${output.name} never released` : `${output.name} ${number(output.last)} (${number(output.min)} … ${number(output.max)})`;
}
