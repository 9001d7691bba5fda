// hardenModule: SWIFT or EDDI (src/passes/swift.ts, eddi.ts), with or without control-flow checking (the
// `edges` family, cfc.ts), applied to any WebAssembly module, with the
// options COAST and ASPIS give — which check families to insert and which functions to harden or leave
// alone, for SWIFT whether loads are loaded again or copied, which imports are pure — checked as a
// caller's mistake apart from the module's, and a report of what it did: instructions duplicated, checks
// by family (each check site with its id, the value `lockstep.check_failed` receives), and the cost in
// code size. The library face of the passes, which take their options already checked.
import binaryen, { emitBinary, exportNamesByFunction, type Module } from './passes/binaryen.js';
import { EDGE_PLACEMENTS, type EdgePlacement } from './passes/cfc.js';
import { CHECK_FAMILIES, DEFAULT_FAMILIES, type CheckFamily } from './passes/checks.js';
import { HARDENING_MODES, type DuplicationOptions, type HardeningMode, type HardeningReport } from './passes/duplicate.js';
import { hardenEddi } from './passes/eddi.js';
import { UnsupportedExpressionError, definedFunctions } from './passes/expressions.js';
import { ModuleError, readModule } from './passes/index.js';
import { PassRefusal } from './passes/pass.js';
import { hardenSwift, SWIFT_LOADS, type SwiftLoads } from './passes/swift.js';

export { CHECK_FAMILIES, DEFAULT_FAMILIES, type CheckFamily, type CheckSite } from './passes/checks.js';
export { HARDENING_MODES, type HardeningMode, type HardeningReport } from './passes/duplicate.js';
export { SWIFT_LOADS, type SwiftLoads } from './passes/swift.js';
export { EDGE_PLACEMENTS, type EdgePlacement } from './passes/cfc.js';
export { HARDENINGS, HARDENING_NAMES, type HardeningName } from './hardenings.js';

type InPlaceOptions = DuplicationOptions & { readonly mode: HardeningMode; readonly swiftLoads?: SwiftLoads };
const HARDEN_IN_PLACE: Record<HardeningMode, (module: Module, options: InPlaceOptions) => HardeningReport> = { swift: hardenSwift, eddi: hardenEddi };

/** SWIFT or EDDI on a module read into Binaryen, in place: the passes with every option (hardenModule checks them). */
export function hardenInPlace(module: Module, options: InPlaceOptions): HardeningReport {
  return HARDEN_IN_PLACE[options.mode](module, options);
}

export interface HardenOptions {
  readonly mode: HardeningMode;
  /** Check families to insert (default: DEFAULT_FAMILIES — all but `loads`). */
  readonly families?: readonly CheckFamily[];
  /**
   * Functions to harden: `include` only these, or every one but `exclude` (not both). A function is named
   * by its name in the module (name section, or Binaryen's index name) or by any name it is exported as.
   */
  readonly functions?: { readonly include?: readonly string[]; readonly exclude?: readonly string[] };
  /**
   * Selective hardening (src/hardening/select.ts): only these functions are hardened, each with its own
   * check families, a subset of `families`. Not with `functions`.
   */
  readonly functionFamilies?: Readonly<Record<string, readonly CheckFamily[]>>;
  /** Names the module in error messages (default "module"). */
  readonly source?: string;
  /**
   * SWIFT: 'reload' (the default) loads the shadow of a loaded value again, through the shadow address,
   * which catches a fault in the load's result or address at the cost of a second load; 'copy' copies the
   * loaded value into its shadow, as the SWIFT paper does (passes/swift.ts). Memory is not duplicated
   * either way. EDDI loads shadows from shadow memory and takes no such option.
   */
  readonly swiftLoads?: SwiftLoads;
  /**
   * Imports that are pure — same arguments, same result, no effect — named `module.name` or `module.*`:
   * a call to one is made again for the shadow instead of having its result copied into it, which
   * closes the window a copied call result leaves (a fault in it reaches both). The flight ABI's bus
   * inputs are latched for the cycle, so `bus.*` is pure for flight software (outputs return nothing
   * and are never called twice).
   */
  readonly pureImports?: readonly string[];
  /**
   * With the `edges` family (control-flow checking, passes/cfc.ts): where the signature is checked — on
   * entry of every destination of a conditional branch ('entry', the default: soonest), or where values
   * leave the function ('exit').
   */
  readonly edgePlacement?: EdgePlacement;
}

export interface HardenReport extends HardeningReport {
  readonly bytes: { readonly original: number; readonly hardened: number; /** hardened / original */ readonly ratio: number };
}

export interface HardenResult {
  readonly binary: Uint8Array;
  readonly report: HardenReport;
}

/** Options that make no sense (unknown mode, family or function name): the caller's mistake, not the module's. */
export class HardenOptionsError extends Error {
  constructor(
    /** The option at fault: mode, families, functions (include and exclude both given), include, exclude. */
    readonly option: 'mode' | 'families' | 'functions' | 'include' | 'exclude' | 'functionFamilies' | 'swiftLoads' | 'pureImports' | 'edgePlacement',
    /** What is wrong with it. */
    readonly detail: string,
  ) {
    super(`${option === 'include' || option === 'exclude' ? `functions.${option}` : option}: ${detail}`);
  }
}

function checkOptions(options: HardenOptions): Set<CheckFamily> {
  if (!HARDENING_MODES.includes(options.mode)) throw new HardenOptionsError('mode', `"${String(options.mode)}" is not a hardening mode (${HARDENING_MODES.join(', ')})`);
  const families = options.families ?? DEFAULT_FAMILIES;
  for (const family of families) {
    if (!(CHECK_FAMILIES as readonly string[]).includes(family)) throw new HardenOptionsError('families', `"${family}" is not a check family (${CHECK_FAMILIES.join(', ')})`);
  }
  if (options.swiftLoads !== undefined) {
    if (!(SWIFT_LOADS as readonly string[]).includes(options.swiftLoads)) {
      throw new HardenOptionsError('swiftLoads', `"${String(options.swiftLoads)}" is not a way of shadowing loads (${SWIFT_LOADS.join(', ')})`);
    }
    if (options.mode === 'eddi') throw new HardenOptionsError('swiftLoads', 'EDDI loads shadows from shadow memory (the option is SWIFT\'s)');
  }
  for (const pattern of options.pureImports ?? []) {
    if (!/^[^.]+\.[^.]+$/.test(pattern)) throw new HardenOptionsError('pureImports', `"${pattern}" names no import (module.name, or module.* for all of a module's)`);
  }
  if (options.edgePlacement !== undefined && !(EDGE_PLACEMENTS as readonly string[]).includes(options.edgePlacement)) {
    throw new HardenOptionsError('edgePlacement', `"${String(options.edgePlacement)}" is not a placement of control-flow checks (${EDGE_PLACEMENTS.join(', ')})`);
  }
  if (options.functions?.include && options.functions.exclude) {
    throw new HardenOptionsError('functions', 'give either the functions to harden (include) or those to leave alone (exclude), not both');
  }
  if (options.functionFamilies) {
    if (options.functions) throw new HardenOptionsError('functionFamilies', 'names the functions to harden itself (not with functions)');
    for (const [name, own] of Object.entries(options.functionFamilies)) {
      const stray = own.find((family) => !families.includes(family));
      if (stray !== undefined) throw new HardenOptionsError('functionFamilies', `"${stray}" of function "${name}" is not one of the families (${families.join(', ')})`);
    }
  }
  return new Set(families);
}

/** `module.name` and `module.*` patterns as a predicate on an import. */
function importMatcher(patterns: readonly string[]): (module: string, base: string) => boolean {
  return (module, base) => patterns.some((pattern) => pattern === `${module}.${base}` || pattern === `${module}.*`);
}

/** A selective plan's families as a lookup by a function's internal name (the plan may name it by an export name). */
function familiesByFunction(module: Module, plan: Readonly<Record<string, readonly CheckFamily[]>>): (name: string) => ReadonlySet<CheckFamily> {
  const byName = new Map<string, ReadonlySet<CheckFamily>>();
  const exports = exportNamesByFunction(module);
  for (const fn of definedFunctions(module)) {
    const name = binaryen.getFunctionInfo(fn).name;
    const key = [name, ...(exports.get(name) ?? [])].find((entry) => Object.hasOwn(plan, entry));
    if (key !== undefined) byName.set(name, new Set(plan[key]));
  }
  return (name) => byName.get(name) ?? new Set();
}

/** Hardens a module with SWIFT or EDDI. Throws ModuleError for a module it cannot read or harden. */
export function hardenModule(bytes: Uint8Array, options: HardenOptions): HardenResult {
  const families = checkOptions(options);
  const source = options.source ?? 'module';
  const module = readModule(bytes, source);
  try {
    const selective = options.functionFamilies;
    const include = selective ? Object.keys(selective) : options.functions?.include;
    const exclude = options.functions?.exclude;
    const named = new Set<string>();
    for (const fn of definedFunctions(module)) named.add(binaryen.getFunctionInfo(fn).name);
    for (const [name, exports] of exportNamesByFunction(module)) if (named.has(name)) for (const exported of exports) named.add(exported);
    for (const [list, label] of [[include, selective ? 'functionFamilies' : 'include'], [exclude, 'exclude']] as const) {
      for (const name of list ?? []) {
        if (!named.has(name)) throw new HardenOptionsError(label, `${source} defines no function "${name}" (functions: ${[...named].join(', ')})`);
      }
    }
    const matches = (list: readonly string[], name: string, exports: readonly string[]) => list.includes(name) || exports.some((entry) => list.includes(entry));
    let report: HardeningReport;
    try {
      report = hardenInPlace(module, {
        mode: options.mode,
        families,
        hardens: (name, exports) => (include ? matches(include, name, exports) : exclude ? !matches(exclude, name, exports) : true),
        familiesOf: selective ? familiesByFunction(module, selective) : undefined,
        swiftLoads: options.swiftLoads,
        pureImports: options.pureImports?.length ? importMatcher(options.pureImports) : undefined,
        edgePlacement: options.edgePlacement,
      });
    } catch (error) {
      if (error instanceof PassRefusal || error instanceof UnsupportedExpressionError) throw new ModuleError(source, error.message);
      throw error;
    }
    if (!module.validate()) throw new Error(`${options.mode} produced an invalid module from ${source}`);
    const binary = emitBinary(module);
    return { binary, report: { ...report, bytes: { original: bytes.length, hardened: binary.length, ratio: binary.length / bytes.length } } };
  } finally {
    module.dispose();
  }
}
