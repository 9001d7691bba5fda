// Selective hardening's choice, as a pure function of numbers: which parts of the flight software to
// harden so that the most silent failures are removed for the runtime a budget allows. A part is a
// function at one of its levels of hardening (control-flow checks only, then more families); levels are
// cumulative, each costing more and removing more, and a function is hardened at one level or none.
//
// The choice is exact: a multiple-choice knapsack, solved by dynamic programming over the cost in steps
// of 1/2000 of the allowance (each cost rounded up, so the choice never exceeds the budget). The first
// design was the greedy "most silent failures per unit of added cost first, while it fits"; on the
// reference flight software it hardened the star-tracker update whole and left `propagate`, the function
// with the most silent failures, out, because after the cheap steps it no longer fit, removing far fewer
// silent failures than the same budget can (docs/hardening.md). Kept apart from what measures the
// numbers (selective.ts), so that tests check the rule on synthetic profiles.

/** One level of hardening a function: what it removes and what it adds, both from the unhardened function. */
export interface Level<Detail> {
  /** Silent failures of the profile campaign this level would remove. */
  readonly silentRemoved: number;
  /** Added runtime as a fraction of the plain build's (0.1: the build is 10% slower). */
  readonly addedCost: number;
  /** What the caller needs to build the level (its check families). */
  readonly detail: Detail;
}

export interface Candidate<Detail> {
  readonly function: string;
  /** Cumulative: each level includes the ones before it. */
  readonly levels: readonly Level<Detail>[];
}

export interface ChosenPart<Detail> {
  readonly function: string;
  /** Index into the candidate's levels. */
  readonly level: number;
  readonly silentRemoved: number;
  readonly addedCost: number;
  readonly detail: Detail;
}

export interface Selection<Detail> {
  /** Most silent failures removed per unit of cost first. */
  readonly parts: ChosenPart<Detail>[];
  /** 1 + the chosen parts' added costs. */
  readonly predictedRatio: number;
  readonly silentRemoved: number;
}

/** Steps the allowance is cut into: costs are rounded up to a step, so a choice never exceeds the budget. */
const COST_STEPS = 2000;

/** Silent failures removed per unit of added cost (a free step is worth the most): the order parts are reported in. */
function efficiency(silent: number, cost: number): number {
  return cost <= 0 ? Number.POSITIVE_INFINITY : silent / cost;
}

/**
 * The parts to harden within `budget` (the predicted runtime ratio allowed, ≥ 1) that remove the most
 * silent failures, and among those the cheapest; levels that remove nothing more than a lower one are
 * never taken. Parts are listed by silent failures removed per unit of cost, most first.
 */
export function chooseParts<Detail>(candidates: readonly Candidate<Detail>[], budget: number): Selection<Detail> {
  const allowance = Math.max(0, budget - 1);
  const step = allowance / COST_STEPS;
  const stepsOf = (cost: number) => (cost <= 0 ? 0 : step > 0 ? Math.ceil(cost / step - 1e-9) : Number.POSITIVE_INFINITY);
  // best[j]: the most silent failures removed, with the least cost, within j steps, over the functions so far.
  let best = Array.from({ length: COST_STEPS + 1 }, () => ({ silent: 0, cost: 0 }));
  const picks: Int16Array[] = [];
  for (const candidate of candidates) {
    const next = best.map((entry) => ({ ...entry }));
    const pick = new Int16Array(COST_STEPS + 1).fill(-1);
    candidate.levels.forEach((level, index) => {
      const steps = stepsOf(level.addedCost);
      if (level.silentRemoved <= 0 || steps > COST_STEPS) return;
      for (let j = COST_STEPS; j >= steps; j--) {
        const from = best[j - steps];
        const silent = from.silent + level.silentRemoved;
        const cost = from.cost + level.addedCost;
        if (silent > next[j].silent || (silent === next[j].silent && cost < next[j].cost - 1e-12)) {
          next[j] = { silent, cost };
          pick[j] = index;
        }
      }
    });
    picks.push(pick);
    best = next;
  }
  // Walk the picks back from the full allowance.
  const chosen: ChosenPart<Detail>[] = [];
  let j = COST_STEPS;
  for (let i = candidates.length - 1; i >= 0; i--) {
    const index = picks[i][j];
    if (index < 0) continue;
    const { silentRemoved, addedCost, detail } = candidates[i].levels[index];
    chosen.push({ function: candidates[i].function, level: index, silentRemoved, addedCost, detail });
    j -= stepsOf(addedCost);
  }
  chosen.sort((a, b) => efficiency(b.silentRemoved, b.addedCost) - efficiency(a.silentRemoved, a.addedCost) || a.function.localeCompare(b.function));
  return {
    parts: chosen,
    predictedRatio: 1 + chosen.reduce((sum, part) => sum + part.addedCost, 0),
    silentRemoved: chosen.reduce((sum, part) => sum + part.silentRemoved, 0),
  };
}
