import fc from 'fast-check';
import { it } from 'vitest';
import { randomModuleText, choicesArbitrary, runModule, watWithFeatures } from './random-module.js';
import { readModule } from '../src/passes/index.js';
import { definedFunctions, walkPostOrder, expressionKindName } from '../src/passes/expressions.js';
import binaryen from '../src/passes/binaryen.js';

it('generates valid modules', () => {
  const stats: Record<string, number> = {};
  const kinds: Record<string, number> = {};
  let sizes: number[] = [];
  let shown = 0;
  fc.assert(fc.property(choicesArbitrary, (choices) => {
    const text = randomModuleText(choices);
    const bytes = watWithFeatures(text);
    const m = readModule(bytes, 'x');
    let n = 0;
    for (const fn of definedFunctions(m)) walkPostOrder(binaryen.getFunctionInfo(fn).body, 'f', (e) => { n++; const k = expressionKindName(e); kinds[k] = (kinds[k] ?? 0) + 1; });
    sizes.push(n);
    m.dispose();
    const r = runModule(bytes);
    const k = r.result.startsWith('ok') ? 'ok' : r.result;
    stats[k] = (stats[k] ?? 0) + 1;
    if (shown++ < 1) console.log(text);
  }), { numRuns: 300 });
  sizes.sort((a,b)=>a-b);
  console.log(stats, kinds, sizes[0], sizes[150], sizes[290]);
});
