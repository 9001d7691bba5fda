// Selective hardening's choice, as a pure function of numbers: which parts of the flight software to
// harden so that the most silent failures are removed for the runtime a budget allows. A part is a
// function at one of its levels of hardening (e.g. control-flow checks only, then the whole hardening);
// levels are cumulative, each costing more and removing more. The greedy takes, again and again, the
// step — one function from its present level to a higher one — that removes the most silent failures per
// unit of added runtime among those that still fit, until none does: the classic greedy of a knapsack
// with upgrades. Kept apart from what measures the numbers (selective.ts), so that tests check the rule
// on synthetic profiles.

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
  /** In the order the greedy took them (a function upgraded later appears once, at its final level). */
  readonly parts: ChosenPart<Detail>[];
  /** 1 + the chosen parts' added costs. */
  readonly predictedRatio: number;
  readonly silentRemoved: number;
}

/** The most silent failures removed per unit of added cost; a step that costs nothing is worth the most. */
function efficiency(silent: number, cost: number): number {
  return cost <= 0 ? Number.POSITIVE_INFINITY : silent / cost;
}

/**
 * The parts to harden within `budget` (the predicted runtime ratio allowed, ≥ 1). Steps that remove no
 * silent failure are never taken; ties go to the cheaper step, then to the function named first.
 */
export function chooseParts<Detail>(candidates: readonly Candidate<Detail>[], budget: number): Selection<Detail> {
  const allowance = budget - 1;
  const current = new Map<string, number>();
  const order: string[] = [];
  let spent = 0;
  const levelOf = (candidate: Candidate<Detail>) => current.get(candidate.function) ?? -1;
  const removedAt = (candidate: Candidate<Detail>, level: number) => (level < 0 ? 0 : candidate.levels[level].silentRemoved);
  const costAt = (candidate: Candidate<Detail>, level: number) => (level < 0 ? 0 : candidate.levels[level].addedCost);
  for (;;) {
    let best: { candidate: Candidate<Detail>; level: number; value: number; cost: number } | null = null;
    for (const candidate of candidates) {
      const from = levelOf(candidate);
      for (let level = from + 1; level < candidate.levels.length; level++) {
        const gain = removedAt(candidate, level) - removedAt(candidate, from);
        const cost = costAt(candidate, level) - costAt(candidate, from);
        if (gain <= 0 || spent + cost > allowance + 1e-12) continue;
        const value = efficiency(gain, cost);
        if (!best || value > best.value || (value === best.value && cost < best.cost)) best = { candidate, level, value, cost };
      }
    }
    if (!best) break;
    const name = best.candidate.function;
    if (!current.has(name)) order.push(name);
    current.set(name, best.level);
    spent += best.cost;
  }
  const byName = new Map(candidates.map((candidate) => [candidate.function, candidate]));
  const parts = order.map((name): ChosenPart<Detail> => {
    const candidate = byName.get(name)!;
    const level = current.get(name)!;
    const { silentRemoved, addedCost, detail } = candidate.levels[level];
    return { function: name, level, silentRemoved, addedCost, detail };
  });
  return {
    parts,
    predictedRatio: 1 + parts.reduce((sum, part) => sum + part.addedCost, 0),
    silentRemoved: parts.reduce((sum, part) => sum + part.silentRemoved, 0),
  };
}
