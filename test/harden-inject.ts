// A test hook for the hardening passes: flips one bit of the value the n-th executed `local.set` of a
// hardened function writes — a main value or a shadow — armed through exported globals. It works on the
// flat form the passes produce before their clean-up (hardenInPlace with `cleanup: false`), where every
// computed value, main or shadow, passes through a local.set of its own, so that a flip hits exactly one
// of the two copies.
//
// Sites left out: the values a shadow is seeded from (a call's result, memory.size and memory.grow, a
// global the passes do not duplicate, and a load under SWIFT copying its loads): the shadow is a copy of
// the flipped value, and no duplication can see the flip — the window the SWIFT paper names. Everything
// else is a site.
import { hardenInPlace, type CheckFamily, type HardeningMode, type HardeningReport, type SwiftLoads } from '../src/harden.js';
import binaryen, { addLocal, i64Const, type ExpressionRef } from '../src/passes/binaryen.js';
import { SHADOW_GLOBAL_EXPORT_PREFIX } from '../src/passes/duplicate.js';
import { readModule } from '../src/passes/index.js';
import { NO_PARENT, walkWithParents } from '../src/passes/rewrite.js';

const B = binaryen;

/** n flips the n-th (0-based) site executed from then on; every site counts it down; negative: disarmed. */
export const COUNTDOWN_GLOBAL = '__test_countdown';
/** XOR mask of the flip (the low 32 bits for i32 and f32). */
export const MASK_GLOBAL = '__test_mask';

const SEED_SOURCES = new Set([B.CallId, B.CallIndirectId, B.MemorySizeId, B.MemoryGrowId]);

/**
 * Hardens `bytes` (flat, all functions) and adds the flip hook at every site. Returns the binary and the
 * number of sites.
 */
export function hardenWithFlipHook(
  bytes: Uint8Array,
  mode: HardeningMode,
  families: readonly CheckFamily[],
  { swiftLoads }: { swiftLoads?: SwiftLoads } = {},
): { binary: Uint8Array; sites: number; report: HardeningReport } {
  const module = readModule(bytes, 'generated');
  try {
    const report = hardenInPlace(module, { mode, families: new Set(families), hardens: () => true, cleanup: false, swiftLoads });
    module.addGlobal(COUNTDOWN_GLOBAL, B.i32, true, module.i32.const(-1));
    module.addGlobalExport(COUNTDOWN_GLOBAL, COUNTDOWN_GLOBAL);
    module.addGlobal(MASK_GLOBAL, B.i64, true, i64Const(module, 1n));
    module.addGlobalExport(MASK_GLOBAL, MASK_GLOBAL);
    const m = module;
    const mask64 = () => m.global.get(MASK_GLOBAL, B.i64);
    const mask32 = () => m.i32.wrap(mask64());
    let sites = 0;
    for (const name of report.functions.hardened) {
      const fn = module.getFunction(name);
      const temps = new Map<number, number>();
      const temp = (type: number) => {
        if (!temps.has(type)) temps.set(type, addLocal(fn, type));
        return temps.get(type)!;
      };
      const targets: ExpressionRef[] = [];
      walkWithParents(B.getFunctionInfo(fn).body, name, (expr, parent) => {
        if (B.getExpressionId(expr) !== B.LocalSetId || parent === NO_PARENT) return;
        const value = B.LocalSet.getValue(expr);
        const type = B.getExpressionType(value);
        if (![B.i32, B.i64, B.f32, B.f64].includes(type)) return;
        const id = B.getExpressionId(value);
        if (SEED_SOURCES.has(id)) return;
        if (mode === 'swift' && swiftLoads === 'copy' && (id === B.LoadId || id === B.SIMDLoadId || id === B.SIMDLoadStoreLaneId)) return;
        if (id === B.GlobalGetId) {
          const global = (B.getExpressionInfo(value) as unknown as { name: string }).name;
          if (!module.getExport(SHADOW_GLOBAL_EXPORT_PREFIX + global) && !global.endsWith('$shadow')) return;
        }
        targets.push(expr);
      });
      for (const set of targets) {
        const value = B.LocalSet.getValue(set);
        const type = B.getExpressionType(value);
        const t = temp(type);
        const get = () => m.local.get(t, type);
        const flipped =
          type === B.i32
            ? m.i32.xor(get(), mask32())
            : type === B.i64
              ? m.i64.xor(get(), mask64())
              : type === B.f32
                ? m.f32.reinterpret(m.i32.xor(m.i32.reinterpret(get()), mask32()))
                : m.f64.reinterpret(m.i64.xor(m.i64.reinterpret(get()), mask64()));
        const countdown = () => m.global.get(COUNTDOWN_GLOBAL, B.i32);
        B.LocalSet.setValue(
          set,
          m.block(
            null,
            [
              m.local.set(t, value),
              m.if(m.i32.eqz(countdown()), m.local.set(t, flipped)),
              m.global.set(COUNTDOWN_GLOBAL, m.i32.sub(countdown(), m.i32.const(1))),
              get(),
            ],
            type,
          ),
        );
        sites++;
      }
    }
    if (!module.validate()) throw new Error('the flip hook produced an invalid module');
    return { binary: module.emitBinary(), sites, report };
  } finally {
    module.dispose();
  }
}
