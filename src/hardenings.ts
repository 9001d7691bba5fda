// The hardenings lockstep flies and compares, by name: `harden` in a mission file and `fly --harden`,
// the campaign's build variants and configurations, the bench's keys and the help texts all derive from
// this one table, so that a hardening added here is flown, compared, timed and documented by the same
// name everywhere. Kept apart from harden.ts, which loads Binaryen, so that mission parsing and campaign
// statistics can name a hardening without it.
import type { EdgePlacement } from './passes/cfc.js';
import type { CheckFamily } from './passes/checks.js';
import type { HardeningMode } from './passes/duplicate.js';
import type { SwiftLoads } from './passes/swift.js';

/** The redundancy around the core a campaign judges a build under: a lone core, a lock-step pair, the pair with checkpoint and spare (a campaign's default). */
export const BASE_CONFIGS = ['single', 'pair', 'pair+spare'] as const;
/** Three cores voting (TMR), without and with a spare core: judged when asked for (`--configs tmr,tmr+spare`). */
export const VOTING_CONFIGS = ['tmr', 'tmr+spare'] as const;
export type BaseConfig = (typeof BASE_CONFIGS)[number] | (typeof VOTING_CONFIGS)[number];

/** An entry: the options hardenModule builds it with (the entry is passed to it as is), and how lockstep presents and flies it. */
export interface Hardening {
  readonly mode: HardeningMode;
  readonly swiftLoads?: SwiftLoads;
  readonly pureImports?: readonly string[];
  /** The check families (default: passes/checks.ts's DEFAULT_FAMILIES). */
  readonly families?: readonly CheckFamily[];
  readonly edgePlacement?: EdgePlacement;
  /** What it is, in a few words (help texts, the mission schema, the bench). */
  readonly label: string;
  /** Campaigns fly it on a lone core (configuration `name`) and also under these (configuration `base+name`). */
  readonly alsoUnder?: readonly Exclude<(typeof BASE_CONFIGS)[number], 'single'>[];
  /** The bench's goal: at most this many times the plain build's time per cycle. */
  readonly runtimeGoal?: number;
}

/**
 * SWIFT as lockstep builds it (loads loaded again); SWIFT as the paper does it (loads copied); SWIFT that
 * also reads every bus input twice (the flight ABI latches inputs for the cycle, so a second read is
 * the same value, and a fault in the first shows — at the price of a second host call per input); EDDI;
 * SWIFT and EDDI with control-flow checking (passes/cfc.ts: the default families and `edges`, so that an
 * inverted branch decision is caught on entry of the wrong successor).
 */
export const HARDENINGS = {
  swift: { mode: 'swift', label: 'SWIFT, loads loaded again', alsoUnder: ['pair', 'pair+spare'], runtimeGoal: 1.5 },
  'swift-copy': { mode: 'swift', swiftLoads: 'copy', label: "SWIFT as the paper has it, loads copied" },
  'swift-bus': { mode: 'swift', pureImports: ['bus.*'], label: 'SWIFT reading every bus input twice' },
  eddi: { mode: 'eddi', label: 'EDDI, memory duplicated too', runtimeGoal: 2.0 },
  'swift-cfc': { mode: 'swift', families: ['stores', 'branches', 'globals', 'calls', 'returns', 'edges'], label: 'SWIFT with control-flow checking' },
  'eddi-cfc': { mode: 'eddi', families: ['stores', 'branches', 'globals', 'calls', 'returns', 'edges'], label: 'EDDI with control-flow checking' },
} as const satisfies Record<string, Hardening>;

export type HardeningName = keyof typeof HARDENINGS;
export const HARDENING_NAMES = Object.keys(HARDENINGS) as HardeningName[];

/** `swift (SWIFT, loads loaded again), ... or eddi (...)`: the choices, for help texts. */
export function describeHardenings(): string {
  const entries = HARDENING_NAMES.map((name) => `${name} (${HARDENINGS[name].label})`);
  return `${entries.slice(0, -1).join(', ')} or ${entries[entries.length - 1]}`;
}

/** How a campaign configuration's cores are built: as given, or with one of the named hardenings. */
export type BuildVariant = 'plain' | HardeningName;

type AlsoUnder<Name extends HardeningName> = (typeof HARDENINGS)[Name] extends { readonly alsoUnder: readonly (infer Base extends string)[] } ? Base : never;
/** A campaign configuration: a redundancy around a build of the flight software (`single` for the plain lone core, `swift` for SWIFT's, `pair+swift`...). */
export type CampaignConfigName = BaseConfig | { [Name in HardeningName]: Name | `${AlsoUnder<Name>}+${Name}` }[HardeningName];

/** Every campaign configuration, the plain ones first, then each hardening's in the table's order. */
export const CAMPAIGN_CONFIGS: ReadonlyArray<{ readonly name: CampaignConfigName; readonly variant: BuildVariant; readonly base: BaseConfig }> = [
  ...[...BASE_CONFIGS, ...VOTING_CONFIGS].map((base) => ({ name: base, variant: 'plain' as const, base })),
  ...HARDENING_NAMES.flatMap((name) => [
    { name, variant: name, base: 'single' as const },
    ...((HARDENINGS[name] as Hardening).alsoUnder ?? []).map((base) => ({ name: `${base}+${name}` as CampaignConfigName, variant: name, base })),
  ]),
];
