// The layout tells the story of the machine, from the bottom up: module passes, the vocabulary of faults,
// the flight-software ABI, a core, the processor, the spare and its controller, the flight computer, the
// spacecraft, missions, campaigns, trade studies, reports, benchmarks, selective hardening (which reads
// campaigns and times builds as the bench does) and the command line. A module imports only from its own
// layer or those below: this test reads every import of src/ and names any that runs upward.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = join(dirname(dirname(fileURLToPath(import.meta.url))), 'src');

/** Layers from the bottom; a layer is a folder of src/ or a file at its top. */
const LAYERS: readonly (readonly string[])[] = [
  ['random.ts', 'input-errors.ts', 'output'],
  ['passes'],
  ['source'],
  ['hardenings.ts', 'harden.ts'],
  ['faults'],
  ['abi'],
  ['core'],
  ['processor'],
  ['spare'],
  ['computer'],
  ['plant'],
  ['mission'],
  ['hil'],
  ['campaign'],
  ['tradestudy'],
  ['reports'],
  ['bench'],
  ['hardening'],
  ['cli'],
  // The library's entry point: beside the command line, over the same layers, importing nothing of it.
  ['index.ts'],
];

function layerOf(path: string): number {
  const top = relative(SRC, path).split('/')[0];
  const layer = LAYERS.findIndex((members) => members.includes(top));
  if (layer < 0) throw new Error(`src/${relative(SRC, path)}: in no layer of test/layers.test.ts (add its folder where it belongs)`);
  return layer;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') ? [path] : [];
  });
}

describe('layers', () => {
  it('no module of src/ imports from a layer above its own', () => {
    const upward: string[] = [];
    for (const file of sources(SRC)) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms)) {
        const target = resolve(dirname(file), match[1].replace(/\.js$/, '.ts'));
        if (layerOf(target) > layerOf(file)) upward.push(`src/${relative(SRC, file)} imports src/${relative(SRC, target)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('the library entry point does not reach into the command line', () => {
    expect(readFileSync(join(SRC, 'index.ts'), 'utf8')).not.toMatch(/from '\.\/cli\//);
  });

  it('the check sees an upward import (it can fail)', () => {
    expect(layerOf(join(SRC, 'cli/main.ts'))).toBeGreaterThan(layerOf(join(SRC, 'core/core.ts')));
    expect(() => layerOf(join(SRC, 'nowhere/x.ts'))).toThrow(/in no layer/);
  });
});
