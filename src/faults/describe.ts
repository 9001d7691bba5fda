// A fault in words, the one way `fly` events, `replay` and the summaries name it: where it struck (which
// processor and core, the checkpoint, the persistent replica, or the link), what (an address, a global by name, the n-th instruction
// result or branch decision of the cycle) and which bits.
import type { Fault } from './fault.js';

/** "primary core A memory, address 0x4c0, bit 3"; global names come from the module when it has them. */
export function describeFault(fault: Fault, globalNames: readonly string[] = []): string {
  const bits = fault.width === 1 ? `bit ${fault.bit}` : `bits ${fault.bit}..${fault.bit + fault.width - 1}`;
  const core = `${fault.processor ?? 'primary'} core ${fault.core ?? 'A'}`;
  const global = (index: number) => `global ${globalNames[index] ?? `#${index}`}`;
  if (fault.kind === 'dead' || fault.kind === 'babbling') {
    const struck = fault.core ? core : `${fault.processor ?? 'primary'} (every core)`;
    return fault.kind === 'dead' ? `${struck} dead from now on` : `${struck} babbling (garbage outputs) from now on`;
  }
  const held = fault.kind === 'stuck' ? `, stuck at ${fault.stuckAt ?? 0} from now on` : '';
  switch (fault.target) {
    case 'memory':
      return `${core} memory, address 0x${fault.location.toString(16)}, ${bits}${held}`;
    case 'global':
      return `${core} ${global(fault.location)}, ${bits}${held}`;
    case 'result':
      return fault.location < 0
        ? `${core}, an instruction result (the cycle executes none)`
        : `${core}, result of value-producing instruction #${fault.location} of the cycle, ${bits}`;
    case 'branch':
      return fault.location < 0 ? `${core}, a branch decision (the cycle executes none)` : `${core}, branch decision #${fault.location} of the cycle, inverted`;
    case 'checkpoint':
      return fault.region === 'global'
        ? `checkpoint ${global(fault.location)}, ${bits}`
        : `checkpoint memory, address 0x${fault.location.toString(16)}, ${bits}`;
    case 'replica':
      return `persistent replica, byte ${fault.location}, ${bits}`;
    case 'link':
      return `cross-strap link, byte ${fault.location} of the cycle's traffic, ${bits}`;
  }
}

/** When the fault strikes: storage between cycles, instructions while the cycle runs. */
export function describeFaultTime(fault: Fault): string {
  return fault.target === 'result' || fault.target === 'branch' ? `during cycle ${fault.cycle}` : `at the start of cycle ${fault.cycle}`;
}
