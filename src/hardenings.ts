// The hardenings lockstep flies and compares, by name: `harden` in a mission file and `fly --harden`,
// the campaign's build variants (configurations swift, pair+swift, pair+spare+swift, swift-copy, eddi)
// and the bench all mean the same build by the same name. Kept apart from harden.ts, which loads
// Binaryen, so that mission parsing and campaign statistics can name a hardening without it.
import type { HardeningMode, SwiftLoads } from './passes/hardening-common.js';

/** SWIFT as lockstep builds it (loads loaded again), SWIFT as the paper does it (loads copied), EDDI. */
export const HARDENINGS = {
  swift: { mode: 'swift' },
  'swift-copy': { mode: 'swift', swiftLoads: 'copy' },
  eddi: { mode: 'eddi' },
} as const satisfies Record<string, { readonly mode: HardeningMode; readonly swiftLoads?: SwiftLoads }>;

export type HardeningName = keyof typeof HARDENINGS;
export const HARDENING_NAMES = Object.keys(HARDENINGS) as HardeningName[];
