// The hardenings lockstep flies and compares, by name: `harden` in a mission file and `fly --harden`,
// the campaign's build variants (configurations swift, pair+swift, pair+spare+swift, swift-copy,
// swift-bus, eddi) and the bench all mean the same build by the same name. Kept apart from harden.ts,
// which loads Binaryen, so that mission parsing and campaign statistics can name a hardening without it.
import type { HardeningMode, SwiftLoads } from './passes/hardening-common.js';

/**
 * SWIFT as lockstep builds it (loads loaded again); SWIFT as the paper does it (loads copied); SWIFT that
 * also reads every bus input twice (the flight ABI latches inputs for the cycle, so a second read is
 * the same value, and a fault in the first shows — at the price of a second host call per input); EDDI.
 */
export const HARDENINGS = {
  swift: { mode: 'swift' },
  'swift-copy': { mode: 'swift', swiftLoads: 'copy' },
  'swift-bus': { mode: 'swift', pureImports: ['bus.*'] },
  eddi: { mode: 'eddi' },
} as const satisfies Record<string, { readonly mode: HardeningMode; readonly swiftLoads?: SwiftLoads; readonly pureImports?: readonly string[] }>;

export type HardeningName = keyof typeof HARDENINGS;
export const HARDENING_NAMES = Object.keys(HARDENINGS) as HardeningName[];
