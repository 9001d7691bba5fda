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

import asc from 'assemblyscript/asc';
import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const sourceDir = join(root, 'kernels');
const outDir = join(root, 'build', 'kernels');
const config = join(sourceDir, 'asconfig.json');
const compilerPackage = createRequire(import.meta.url).resolve('assemblyscript/package.json');

/** The kernels, each kernels/<name>.ts (its entry file); every other .ts in kernels/ is shared. */
export const KERNELS = ['matmul', 'crc32', 'quicksort', 'sha256'];

/** The bus channels a kernel may import: it reads time and dt, and writes all four outputs. */
const INPUTS = ['time', 'dt'];
const OUTPUTS = ['torque_x', 'torque_y', 'torque_z', 'mode'];

export function kernelPath(name) {
  return join(outDir, `${name}.wasm`);
}

async function listSources(directory) {
  const entries = await readdir(directory, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) return listSources(path);
      return entry.name.endsWith('.ts') ? [path] : [];
    }),
  );
  return nested.flat();
}

/** The sources a kernel is built from: its entry and every shared source (not another kernel's entry). */
async function sourcesOf(name) {
  const others = new Set(KERNELS.filter((kernel) => kernel !== name).map((kernel) => join(sourceDir, `${kernel}.ts`)));
  return (await listSources(sourceDir)).filter((path) => !others.has(path));
}

async function isUpToDate(name) {
  const output = await stat(kernelPath(name)).catch(() => undefined);
  if (!output) return false;
  const inputs = [...(await sourcesOf(name)), config, fileURLToPath(import.meta.url), compilerPackage];
  const times = await Promise.all(inputs.map(async (path) => (await stat(path)).mtimeMs));
  return times.every((time) => time < output.mtimeMs);
}

/** Section ids present in a wasm binary (the start section is id 8). */
function sectionIds(bytes) {
  const ids = [];
  let offset = 8; // magic and version
  while (offset < bytes.length) {
    const id = bytes[offset++];
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[offset++];
      size += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) break;
    }
    ids.push(id);
    offset += size;
  }
  return ids;
}

function checkAbi(name, bytes) {
  const module = new WebAssembly.Module(bytes);
  const problems = [];
  for (const { module: from, name: field, kind } of WebAssembly.Module.imports(module)) {
    if (from !== 'bus') problems.push(`imports ${from}.${field}; only module "bus" is allowed`);
    else if (kind !== 'function') problems.push(`imports a ${kind} bus.${field}; only bus functions are allowed`);
    else if (!INPUTS.includes(field) && !OUTPUTS.includes(field)) problems.push(`imports bus.${field}; a kernel reads only ${INPUTS.join(' and ')}`);
  }
  const exports = WebAssembly.Module.exports(module)
    .map(({ name: field }) => field)
    .sort();
  if (exports.join() !== 'init,memory,step') problems.push(`exports ${exports.join(', ')}; expected init, memory, step`);
  if (sectionIds(bytes).includes(8)) problems.push('has a start function');
  if (problems.length > 0) throw new Error(`build/kernels/${name}.wasm breaks the flight-software ABI: ${problems.join('; ')}`);
}

/** Compiles one kernel; resolves to its checked binary. */
async function compile(name) {
  let binary;
  const diagnostics = [];
  const stream = { write: (text) => diagnostics.push(String(text)) };
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
  const { error } = await asc.main(args, {
    stdout: stream,
    stderr: stream,
    // Keep the binary in memory; it is checked, then written atomically.
    writeFile: (file, contents) => {
      if (file.endsWith('.wasm')) binary = contents;
    },
  });
  if (error) throw new Error(`asc failed on kernels/${name}.ts: ${error.message}\n${diagnostics.join('')}`);
  if (!binary) throw new Error(`asc produced no binary for kernels/${name}.ts\n${diagnostics.join('')}`);
  checkAbi(name, binary);
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
    const binary = await compile(name);
    await mkdir(outDir, { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    await writeFile(temporary, binary);
    await rename(temporary, path);
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
