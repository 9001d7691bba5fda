// The hot-swap controller, as an explicit table of states and events. Within one control period the
// primary runs; if its comparator agrees, its outputs are released, and at the end of a checkpoint epoch
// its state is committed. If not, the primary is deemed transiently unreliable: the spare takes the last
// committed state and re-executes the epoch up to this cycle with the logged inputs, its outputs are
// released in the same period, the roles swap, its state is committed, and the failed processor is
// reset and re-synchronised to become the new spare. Without a spare, the lone
// processor rolls back to its checkpoint and the cycle's commands are lost. A cold spare must boot
// first: when its boot outlasts the period, the controller waits in `spare-booting`, releasing nothing,
// and the fresh spare takes over at the first cycle after its boot.
/** hot: loads the checkpoint and replays the epoch; cold: boots from the initial image; none: no spare. */
export type SpareMode = 'hot' | 'cold' | 'none';

export type ControllerState = 'duplex' | 'simplex' | 'failover' | 'rollback' | 'spare-booting';
export type ControllerEvent =
  | 'agreed'
  | 'detected'
  | 'spare-agreed'
  | 'spare-detected'
  | 'spare-not-ready'
  | 'booting'
  | 'boot-done'
  | 'rolled-back';
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
  | 'roll-back-primary';

export interface Transition {
  readonly next: ControllerState;
  readonly actions: readonly ControllerAction[];
}

export const TRANSITIONS: Readonly<Record<ControllerState, Partial<Record<ControllerEvent, Transition>>>> = {
  duplex: {
    agreed: { next: 'duplex', actions: ['release-primary', 'commit-at-epoch-end'] },
    detected: { next: 'failover', actions: ['take-over-with-spare'] },
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

/** States the controller rests in between cycles; the others last only within one control period. */
export const RESTING_STATES: ReadonlySet<ControllerState> = new Set(['duplex', 'simplex', 'spare-booting']);

export function transition(state: ControllerState, event: ControllerEvent): Transition {
  const next = TRANSITIONS[state][event];
  if (!next) throw new Error(`hot-swap controller: event "${event}" is not defined in state "${state}"`);
  return next;
}

/** The state the controller starts in: with a spare, or alone. */
export function initialControllerState(spare: SpareMode): ControllerState {
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
