// The hot-swap controller's transition table (src/spare/controller.ts): complete where it must be,
// settling within one control period, deciding each period's outputs exactly once, never committing a
// suspect cycle, and refusing undefined (state, event) pairs.
import { describe, expect, it } from 'vitest';
import {
  FOLLOW_UPS,
  RESTING_STATES,
  TRANSITIONS,
  transition,
  type ControllerAction,
  type ControllerEvent,
  type ControllerState,
} from '../src/spare/controller.js';

const STATES = Object.keys(TRANSITIONS) as ControllerState[];
const TRANSIENT = STATES.filter((state) => !RESTING_STATES.has(state));
const KNOWN_EVENTS = ['agreed', 'detected', 'spare-agreed', 'spare-detected', 'rolled-back'];
const EVENTS = [...new Set([...KNOWN_EVENTS, ...STATES.flatMap((state) => Object.keys(TRANSITIONS[state]))])] as ControllerEvent[];
/** Events that start a period: the primary's verdict, or (while a cold spare boots) the boot's progress. */
const PERIOD_STARTS: ReadonlyArray<readonly ControllerEvent[]> = [['agreed', 'detected'], ['booting', 'boot-done'], ['copying', 'copy-done']];
/** The actions the flight computer implements (src/computer/flight-computer.ts, runCycle). */
const ACTIONS: readonly ControllerAction[] = [
  'release-primary',
  'commit-primary',
  // commits only when the cycle ends a checkpoint epoch (the state is compared and committed per epoch)
  'commit-at-epoch-end' as ControllerAction,
  'take-over-with-spare',
  'release-spare',
  'swap-roles',
  'resync-failed-processor',
  'hold-outputs',
  'roll-back-all',
  'roll-back-primary',
  'continue-reintegration',
  'resume-primary',
  'check-spare',
  'resync-spare',
  'retire-spare',
  'resync-outvoted',
  'replace-voter',
  'retire-voter',
];
const OUTPUT_DECISIONS: readonly ControllerAction[] = ['release-primary', 'release-spare', 'hold-outputs'];
const COMMITS: readonly ControllerAction[] = ['commit-primary', 'commit-at-epoch-end' as ControllerAction];
/** Most transitions the flight computer takes in one period (MAX_TRANSITIONS_PER_CYCLE). */
const MAX_TRANSITIONS_PER_PERIOD = 4;

const defined = (state: ControllerState): ControllerEvent[] => Object.keys(TRANSITIONS[state]) as ControllerEvent[];

/**
 * Every path from `state` on `event` until the period settles: the list of (state, event, actions). A
 * transient state must take one of its events; in a resting state the period may end, or an action of
 * the last step may raise a follow-up event (FOLLOW_UPS) that the state handles.
 */
function pathsFrom(state: ControllerState, event: ControllerEvent, depth = 0): Array<Array<{ from: ControllerState; event: ControllerEvent; next: ControllerState; actions: readonly ControllerAction[] }>> {
  if (depth > 10) throw new Error(`no resting state within 10 events from ${state}`);
  const { next, actions } = transition(state, event);
  const step = { from: state, event, next, actions };
  const raised = actions.flatMap((action) => FOLLOW_UPS[action] ?? []).filter((following) => TRANSITIONS[next][following]);
  if (RESTING_STATES.has(next)) return [[step], ...raised.flatMap((following) => pathsFrom(next, following, depth + 1).map((rest) => [step, ...rest]))];
  const events = defined(next);
  if (events.length === 0) throw new Error(`transient state ${next} handles no event`);
  return events.flatMap((following) => pathsFrom(next, following, depth + 1).map((rest) => [step, ...rest]));
}

/** Every path a period can take: from each resting state, on each event that starts a period there. */
function periodPaths() {
  return [...RESTING_STATES].flatMap((state) => defined(state).filter((event) => PERIOD_STARTS.some((pair) => pair.includes(event))).flatMap((event) => pathsFrom(state, event)));
}

describe('hot-swap controller table', () => {
  it('has the states the flight computer starts in, as resting states', () => {
    expect(RESTING_STATES.has('duplex')).toBe(true);
    expect(RESTING_STATES.has('simplex')).toBe(true);
    expect(TRANSIENT.length).toBeGreaterThan(0);
    for (const state of RESTING_STATES) expect(STATES).toContain(state);
  });

  it('every resting state handles the events that can start a period in it', () => {
    for (const state of RESTING_STATES) {
      const handled = defined(state);
      const complete = PERIOD_STARTS.filter((pair) => pair.every((event) => handled.includes(event)));
      expect(complete, `state ${state} handles ${handled.join(', ')}`).toHaveLength(1);
    }
  });

  it('duplex and simplex handle both verdicts of the primary', () => {
    for (const state of ['duplex', 'simplex'] as const) {
      for (const event of ['agreed', 'detected'] as const) expect(() => transition(state, event)).not.toThrow();
      const agreed = transition(state, 'agreed');
      expect(agreed.next).toBe(state);
      // In duplex the agreed period also checks the standing-by spare (heartbeat, scrub).
      expect(agreed.actions).toEqual(state === 'duplex' ? ['release-primary', 'commit-at-epoch-end', 'check-spare'] : ['release-primary', 'commit-at-epoch-end']);
      expect(COMMITS).toContain(agreed.actions[1]);
    }
  });

  it('every transient state handles at least one event and reaches a resting state within 2 events', () => {
    for (const state of TRANSIENT) {
      expect(defined(state).length, `${state} handles no event`).toBeGreaterThan(0);
      for (const event of defined(state)) {
        for (const path of pathsFrom(state, event)) expect(path.length, `${state} --${event}--> ${path.map((step) => step.next).join(' → ')}`).toBeLessThanOrEqual(2);
      }
    }
  });

  it('every transition leads to a known state and uses only actions the flight computer implements', () => {
    for (const state of STATES) {
      for (const event of defined(state)) {
        const { next, actions } = transition(state, event);
        expect(STATES).toContain(next);
        for (const action of actions) expect(ACTIONS).toContain(action);
      }
    }
  });

  it('a period settles within the flight computer\'s transition bound', () => {
    const paths = periodPaths();
    expect(paths.length).toBeGreaterThanOrEqual(4);
    for (const path of paths) expect(path.length).toBeLessThanOrEqual(MAX_TRANSITIONS_PER_PERIOD - 1);
  });

  it('every period decides its outputs exactly once, and commits only released (agreed) work', () => {
    for (const path of periodPaths()) {
      const actions = path.flatMap((step) => step.actions);
      const label = path.map((step) => `${step.from} --${step.event}-->`).join(' ') + ` ${path.at(-1)!.next}: ${actions.join(', ')}`;
      expect(actions.filter((action) => OUTPUT_DECISIONS.includes(action)), label).toHaveLength(1);
      const commit = actions.findIndex((action) => COMMITS.includes(action));
      if (actions.includes('hold-outputs')) expect(commit, label).toBe(-1);
      if (commit >= 0) {
        const decision = actions.findIndex((action) => OUTPUT_DECISIONS.includes(action));
        expect(decision, label).toBeLessThan(commit);
        expect(actions.filter((action) => COMMITS.includes(action)), label).toHaveLength(1);
      }
    }
  });

  it('an action that hands over to the spare or rolls back waits in a state that handles its follow-up events', () => {
    for (const state of STATES) {
      for (const event of defined(state)) {
        const { next, actions } = transition(state, event);
        if (actions.includes('take-over-with-spare')) {
          expect(defined(next)).toEqual(expect.arrayContaining(['spare-agreed', 'spare-detected']));
        }
        if (actions.includes('roll-back-primary')) expect(defined(next)).toContain('rolled-back');
      }
    }
  });

  it('a transition into a transient state carries the action that raises its follow-up event', () => {
    // Only these actions make the flight computer feed the controller another event within the period.
    const raisesFollowUp = Object.keys(FOLLOW_UPS) as ControllerAction[];
    for (const state of STATES) {
      for (const event of defined(state)) {
        const { next, actions } = transition(state, event);
        if (RESTING_STATES.has(next)) continue;
        expect(actions.some((action) => raisesFollowUp.includes(action)), `${state} --${event}--> ${next}: ${actions.join(', ')}`).toBe(true);
      }
    }
  });

  it('a detection in duplex hands over to the spare; in simplex it loses the cycle and rolls back', () => {
    expect(transition('duplex', 'detected').actions).toContain('take-over-with-spare');
    const simplex = transition('simplex', 'detected');
    expect(simplex.actions).toEqual(expect.arrayContaining(['hold-outputs', 'roll-back-primary']));
    expect(transition(simplex.next, 'rolled-back').next).toBe('simplex');
    const takeOver = transition('failover', 'spare-agreed');
    expect(takeOver.next).toBe('duplex');
    expect(takeOver.actions).toEqual(expect.arrayContaining(['release-spare', 'swap-roles', 'resync-failed-processor']));
    expect(takeOver.actions.some((action) => COMMITS.includes(action))).toBe(true);
    const bothFailed = transition('failover', 'spare-detected');
    expect(RESTING_STATES.has(bothFailed.next)).toBe(true);
    expect(bothFailed.actions).toEqual(expect.arrayContaining(['hold-outputs', 'roll-back-all']));
  });

  it('while a spare is reintegrated there is none: a detection loses the cycle and rolls back, and the reintegration goes on', () => {
    const rollback = transition('reintegrating', 'detected');
    expect(rollback.actions).toEqual(expect.arrayContaining(['hold-outputs', 'roll-back-primary']));
    expect(rollback.actions).not.toContain('take-over-with-spare');
    expect(transition(rollback.next, 'rolled-back').next).toBe('reintegrating');
    expect(transition('reintegrating', 'agreed').actions).toContain('continue-reintegration');
    expect(transition('reintegrating', 'reintegration-done').next).toBe('duplex');
    expect(transition('stopped-for-copy', 'copying').actions).toEqual(['hold-outputs']);
    expect(transition('stopped-for-copy', 'copy-done').next).toBe('duplex');
    // Every event an action may raise is one the table defines somewhere.
    for (const events of Object.values(FOLLOW_UPS)) for (const event of events!) expect(STATES.some((state) => TRANSITIONS[state][event])).toBe(true);
  });

  it('health: a failed spare (silent, or over its threshold) degrades to simplex and is never brought back; a faulty one is reloaded', () => {
    expect(FOLLOW_UPS['check-spare']).toEqual(expect.arrayContaining(['spare-failed', 'spare-faulty']));
    expect(FOLLOW_UPS['resync-failed-processor']).toContain('spare-failed');
    const failed = transition('duplex', 'spare-failed');
    expect(failed).toEqual({ next: 'simplex', actions: ['retire-spare'] });
    expect(transition('duplex', 'spare-faulty')).toEqual({ next: 'duplex', actions: ['resync-spare'] });
    // No path from simplex leads back to a spare: a retired processor is never reintegrated.
    const reachable = new Set<ControllerState>(['simplex']);
    for (let grown = true; grown; ) {
      grown = false;
      for (const state of [...reachable]) {
        for (const event of defined(state)) {
          const { next } = transition(state, event);
          if (!reachable.has(next)) {
            reachable.add(next);
            grown = true;
          }
        }
      }
    }
    expect([...reachable].sort()).toEqual(['rollback', 'simplex']);
  });

  it('TMR: an outvoted core is resynchronised after the release and before any commit; no path rolls back a majority', () => {
    const outvoted = transition('voting', 'outvoted');
    expect(outvoted).toEqual({ next: 'voting', actions: ['release-primary', 'resync-outvoted', 'commit-at-epoch-end'] });
    for (const path of pathsFrom('voting', 'outvoted')) {
      const actions = path.flatMap((step) => step.actions);
      expect(actions.filter((action) => OUTPUT_DECISIONS.includes(action))).toEqual(['release-primary']);
      expect(actions).not.toContain('roll-back-primary');
      expect(path.length).toBeLessThanOrEqual(MAX_TRANSITIONS_PER_PERIOD - 1);
    }
    // A failed voter is replaced by the spare, or without one the two left fly on as a pair.
    expect(transition('voting', 'voter-failed').actions).toEqual(['replace-voter']);
    expect(transition('voting', 'voter-lost')).toEqual({ next: 'simplex', actions: ['retire-voter'] });
    expect(transition('voting', 'detected').actions).toEqual(['hold-outputs', 'roll-back-primary']);
  });

  it('an undefined (state, event) pair throws, naming both', () => {
    let undefinedPairs = 0;
    for (const state of STATES) {
      for (const event of [...EVENTS, 'cosmic-ray' as ControllerEvent]) {
        if (TRANSITIONS[state][event]) continue;
        undefinedPairs++;
        expect(() => transition(state, event)).toThrow(new RegExp(`"${event}".*"${state}"`));
      }
    }
    expect(undefinedPairs).toBeGreaterThanOrEqual(STATES.length * 2);
    expect(() => transition('duplex', 'spare-agreed')).toThrow(/not defined/);
    expect(() => transition('simplex', 'rolled-back')).toThrow(/not defined/);
    expect(() => transition('rollback', 'agreed')).toThrow(/not defined/);
  });
});
