// Builds the benchmark kernels (issue 4: the classic kernels COAST reports on), kernels/<name>.ts →
// build/kernels/<name>.wasm, each a standalone flight-software module, with the options in
// kernels/asconfig.json (target "release": O3, stub runtime, one page of memory, abort replaced so
// nothing is imported from "env"). Cached per kernel: nothing is compiled when its output is newer than
// every input (its source, the shared sources in kernels/, kernels/asconfig.json, this script and the
// installed compiler). Each result is checked against the flight-software ABI before it is written:
// imports from module "bus" only — the inputs time and dt and the four outputs, nothing else — exports
// exactly init, step and memory, no start function. Writes are atomic (a concurrent reader never sees
// half a file).
//
//   node scripts/build-kernels.mjs [--force] [name...]
//   await import('./build-kernels.mjs');   // as a script: importing it builds all (cached)
//   import { buildKernels } from './build-kernels.mjs'; await buildKernels({ force: true });

import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkAbi, compileToMemory, isNewerThan, listSources, writeAtomic } from './asc-tools.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const sourceDir = join(root, 'kernels');
const outDir = join(root, 'build', 'kernels');
const config = join(sourceDir, 'asconfig.json');

/** The kernels, each kernels/<name>.ts (its entry file); every other .ts in kernels/ is shared. */
export const KERNELS = ['matmul', 'crc32', 'quicksort', 'sha256'];

/** The bus channels a kernel may import: it reads time and dt, and writes all four outputs. */
const INPUTS = ['time', 'dt'];
const OUTPUTS = ['torque_x', 'torque_y', 'torque_z', 'mode'];

export function kernelPath(name) {
  return join(outDir, `${name}.wasm`);
}

/** The sources a kernel is built from: its entry and every shared source (not another kernel's entry). */
async function sourcesOf(name) {
  const others = new Set(KERNELS.filter((kernel) => kernel !== name).map((kernel) => join(sourceDir, `${kernel}.ts`)));
  return (await listSources(sourceDir)).filter((path) => !others.has(path));
}

async function isUpToDate(name) {
  return isNewerThan(kernelPath(name), [...(await sourcesOf(name)), config, fileURLToPath(import.meta.url), join(root, 'scripts', 'asc-tools.mjs')]);
}

/** Compiles one kernel; resolves to its checked binary. */
async function compile(name) {
  const args = [
    `kernels/${name}.ts`,
    '--config',
    'kernels/asconfig.json',
    '--target',
    'release',
    '--baseDir',
    root,
    '--outFile',
    `build/kernels/${name}.wasm`,
  ];
  const binary = await compileToMemory(args, `kernels/${name}.ts`);
  checkAbi(`build/kernels/${name}.wasm`, binary, [...INPUTS, ...OUTPUTS]);
  return binary;
}

/**
 * Compile build/kernels/<name>.wasm for each kernel in `names` (default: all) unless it is up to date
 * (or `force`). Resolves to one { name, path, built } per kernel; rejects with the compiler's
 * diagnostics on the first failure. Kernels are compiled one after another (the compiler is not
 * reentrant).
 */
export async function buildKernels({ force = false, names = KERNELS } = {}) {
  const results = [];
  for (const name of names) {
    if (!KERNELS.includes(name)) throw new Error(`no kernel "${name}" (kernels: ${KERNELS.join(', ')})`);
    const path = kernelPath(name);
    if (!force && (await isUpToDate(name))) {
      results.push({ name, path, built: false });
      continue;
    }
    await writeAtomic(path, await compile(name));
    results.push({ name, path, built: true });
  }
  return results;
}

// Build whenever the script runs, including when another script imports it (scripts/build.mjs does).
const runDirectly = import.meta.url === pathToFileURL(process.argv[1] ?? '').href;
const requested = runDirectly ? process.argv.slice(2).filter((arg) => !arg.startsWith('--')) : [];
const results = await buildKernels({
  force: runDirectly && process.argv.includes('--force'),
  names: requested.length > 0 ? requested : KERNELS,
});
if (runDirectly) {
  for (const { path, built } of results) console.log(`${relative(process.cwd(), path)} ${built ? 'built' : 'up to date'}`);
}
