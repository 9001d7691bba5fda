// The hot-swap controller, as an explicit table of states and events. Within one control period the
// primary runs; if its comparator agrees, its outputs are released, and at the end of a checkpoint epoch
// its state is committed. If not, the primary is deemed transiently unreliable: the spare takes the last
// committed state and re-executes the epoch up to this cycle with the logged inputs, its outputs are
// released in the same period, the roles swap, its state is committed, and the failed processor is
// reset and re-synchronised to become the new spare. Without a spare, the lone
// processor rolls back to its checkpoint and the cycle's commands are lost. A cold spare must boot
// first: when its boot outlasts the period, the controller waits in `spare-booting`, releasing nothing,
// and the fresh spare takes over at the first cycle after its boot. A hot spare's failed processor comes
// back as spare over the cross-strap link (src/spare/reintegration.ts): while it does, the computer has
// no spare (`reintegrating`), so a detection then is a rollback, and a stop-and-copy that does not fit the
// period stops the primary (`stopped-for-copy`).
// Health management (src/computer/health.ts) feeds the table too: every agreed period in duplex checks the
// spare (`check-spare`: its heartbeat, and at an epoch's end the scrub of its memory), and a failed
// processor is looked at before it is brought back (`resync-failed-processor`). A spare that does not
// answer, or any processor over its fail-count threshold, is declared failed (`spare-failed`): it is
// never reintegrated and the computer degrades to simplex. A spare whose scrub found a fault under the
// threshold is reloaded (`spare-faulty`, `resync-spare`).
// Triple modular redundancy flies in `voting`: three cores vote every cycle, an outvoted core is
// resynchronised from the majority after the release (`outvoted`, `resync-outvoted`), and nothing is
// rolled back unless no two agree. A core that does not come back from its resync, or is over its
// threshold (`voter-failed`), is replaced by the spare's core, or without one removed (`voter-lost`): the
// two left fly on as a lock-step pair (`simplex`), with no failover.
/** hot: loads the checkpoint and replays the epoch; cold: boots from the initial image; none: no spare. */
export type SpareMode = 'hot' | 'cold' | 'none';

export type ControllerState =
  | 'voting'
  | 'voting-rollback'
  | 'duplex'
  | 'simplex'
  | 'failover'
  | 'rollback'
  | 'spare-booting'
  | 'reintegrating'
  | 'reintegration-rollback'
  | 'stopped-for-copy';
export type ControllerEvent =
  | 'agreed'
  | 'detected'
  | 'spare-agreed'
  | 'spare-detected'
  | 'spare-not-ready'
  | 'booting'
  | 'boot-done'
  | 'rolled-back'
  | 'reintegration-started'
  | 'reintegration-done'
  | 'stop-for-copy'
  | 'copying'
  | 'copy-done'
  | 'spare-faulty'
  | 'spare-failed'
  | 'outvoted'
  | 'voter-failed'
  | 'voter-lost';
export type ControllerAction =
  | 'release-primary'
  | 'commit-at-epoch-end'
  | 'commit-primary'
  | 'take-over-with-spare'
  | 'release-spare'
  | 'swap-roles'
  | 'resync-failed-processor'
  | 'hold-outputs'
  | 'roll-back-all'
  | 'roll-back-primary'
  | 'continue-reintegration'
  | 'resume-primary'
  | 'check-spare'
  | 'resync-spare'
  | 'retire-spare'
  | 'resync-outvoted'
  | 'replace-voter'
  | 'retire-voter';

export interface Transition {
  readonly next: ControllerState;
  readonly actions: readonly ControllerAction[];
}

export const TRANSITIONS: Readonly<Record<ControllerState, Partial<Record<ControllerEvent, Transition>>>> = {
  voting: {
    agreed: { next: 'voting', actions: ['release-primary', 'commit-at-epoch-end', 'check-spare'] },
    // The majority's outputs are out; the outvoted core takes the majority's state before any commit.
    outvoted: { next: 'voting', actions: ['release-primary', 'resync-outvoted', 'commit-at-epoch-end'] },
    // No two cores agree: nothing trustworthy to release; the group rolls back to the checkpoint.
    detected: { next: 'voting-rollback', actions: ['hold-outputs', 'roll-back-primary'] },
    'voter-failed': { next: 'voting', actions: ['replace-voter'] },
    'voter-lost': { next: 'simplex', actions: ['retire-voter'] },
    'spare-faulty': { next: 'voting', actions: ['resync-spare'] },
    'spare-failed': { next: 'voting', actions: ['retire-spare'] },
  },
  'voting-rollback': {
    'rolled-back': { next: 'voting', actions: [] },
  },
  duplex: {
    agreed: { next: 'duplex', actions: ['release-primary', 'commit-at-epoch-end', 'check-spare'] },
    detected: { next: 'failover', actions: ['take-over-with-spare'] },
    // The spare's scrub found a fault, under the threshold: it is reloaded from the checkpoint.
    'spare-faulty': { next: 'duplex', actions: ['resync-spare'] },
    // Silent, or over its threshold: declared failed, never reintegrated; the primary flies on alone.
    'spare-failed': { next: 'simplex', actions: ['retire-spare'] },
    // The failed processor was reset and comes back over the link (not instantly).
    'reintegration-started': { next: 'reintegrating', actions: [] },
    'stop-for-copy': { next: 'stopped-for-copy', actions: [] },
  },
  reintegrating: {
    agreed: { next: 'reintegrating', actions: ['release-primary', 'commit-at-epoch-end', 'continue-reintegration'] },
    // No spare yet: as in simplex, the cycle is lost and the primary rolls back to its checkpoint.
    detected: { next: 'reintegration-rollback', actions: ['hold-outputs', 'roll-back-primary'] },
    'reintegration-done': { next: 'duplex', actions: [] },
    'stop-for-copy': { next: 'stopped-for-copy', actions: [] },
  },
  'reintegration-rollback': {
    'rolled-back': { next: 'reintegrating', actions: [] },
  },
  // The primary is stopped while the whole remainder crosses the link: nothing runs, nothing is released.
  'stopped-for-copy': {
    copying: { next: 'stopped-for-copy', actions: ['hold-outputs'] },
    'copy-done': { next: 'duplex', actions: ['hold-outputs', 'resume-primary'] },
  },
  failover: {
    'spare-agreed': {
      next: 'duplex',
      actions: ['release-spare', 'swap-roles', 'commit-primary', 'resync-failed-processor'],
    },
    // Both processors failed the same cycle: nothing trustworthy to release; both restart from the checkpoint.
    'spare-detected': { next: 'duplex', actions: ['hold-outputs', 'roll-back-all'] },
    'spare-not-ready': { next: 'spare-booting', actions: ['hold-outputs'] },
  },
  'spare-booting': {
    booting: { next: 'spare-booting', actions: ['hold-outputs'] },
    'boot-done': { next: 'failover', actions: ['take-over-with-spare'] },
  },
  simplex: {
    agreed: { next: 'simplex', actions: ['release-primary', 'commit-at-epoch-end'] },
    detected: { next: 'rollback', actions: ['hold-outputs', 'roll-back-primary'] },
  },
  rollback: {
    'rolled-back': { next: 'simplex', actions: [] },
  },
};

/**
 * The events an action may raise within its period (the flight computer feeds them back to the table):
 * a hand-over's and a rollback's outcome, and the progress of a reintegration.
 */
export const FOLLOW_UPS: Readonly<Partial<Record<ControllerAction, readonly ControllerEvent[]>>> = {
  'take-over-with-spare': ['spare-agreed', 'spare-detected', 'spare-not-ready'],
  'roll-back-primary': ['rolled-back'],
  'resync-failed-processor': ['reintegration-started', 'stop-for-copy', 'spare-failed'],
  'check-spare': ['spare-faulty', 'spare-failed'],
  'resync-outvoted': ['voter-failed'],
  'replace-voter': ['voter-lost'],
  'continue-reintegration': ['reintegration-done', 'stop-for-copy'],
};

/** States the controller rests in between cycles; the others last only within one control period. */
export const RESTING_STATES: ReadonlySet<ControllerState> = new Set(['voting', 'duplex', 'simplex', 'spare-booting', 'reintegrating', 'stopped-for-copy']);

export function transition(state: ControllerState, event: ControllerEvent): Transition {
  const next = TRANSITIONS[state][event];
  if (!next) throw new Error(`hot-swap controller: event "${event}" is not defined in state "${state}"`);
  return next;
}

/** How the primary is made redundant: a lock-step pair, or three cores voting (TMR). */
export type Redundancy = 'pair' | 'tmr';

/** The state the controller starts in: voting (TMR), with a spare, or alone. */
export function initialControllerState(spare: SpareMode, redundancy: Redundancy = 'pair'): ControllerState {
  if (redundancy === 'tmr') return 'voting';
  return spare === 'none' ? 'simplex' : 'duplex';
}

/**
 * Whether a detection in the primary ends with commands released in the same period, when the spare is
 * ready and fault-free (as in a single-fault experiment): the table's answer, for the campaign runner,
 * which judges a failover without running the controller.
 */
export function detectionReleasesSpareOutputs(spare: SpareMode): boolean {
  const first = transition(initialControllerState(spare), 'detected');
  if (!first.actions.includes('take-over-with-spare')) return false;
  return transition(first.next, 'spare-agreed').actions.includes('release-spare');
}
