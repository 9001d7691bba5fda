// Builds the reference flight software, assembly/ → build/adcs.wasm, with the options in asconfig.json
// (target "release"). Cached: nothing is compiled when the output is newer than every input (the
// sources, asconfig.json, this script and the installed compiler). The result is checked against the
// flight-software ABI before it is written: imports from module "bus" only, exports exactly init, step
// and memory, no start function.
//
//   node scripts/build-fsw.mjs [--force]
//   await import('./build-fsw.mjs');   // as a script: importing it builds (cached)
//   import { buildFlightSoftware } from './build-fsw.mjs'; await buildFlightSoftware({ force: true });

import asc from 'assemblyscript/asc';
import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outFile = join(root, 'build', 'adcs.wasm');
const compilerPackage = createRequire(import.meta.url).resolve('assemblyscript/package.json');

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

async function isUpToDate() {
  const output = await stat(outFile).catch(() => undefined);
  if (!output) return false;
  const inputs = [
    ...(await listSources(join(root, 'assembly'))),
    join(root, 'asconfig.json'),
    fileURLToPath(import.meta.url),
    compilerPackage,
  ];
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

function checkAbi(bytes) {
  const module = new WebAssembly.Module(bytes);
  const problems = [];
  for (const { module: from, name } of WebAssembly.Module.imports(module)) {
    if (from !== 'bus') problems.push(`imports ${from}.${name}; only module "bus" is allowed`);
  }
  const exports = WebAssembly.Module.exports(module)
    .map(({ name }) => name)
    .sort();
  if (exports.join() !== 'init,memory,step') problems.push(`exports ${exports.join(', ')}; expected init, memory, step`);
  if (sectionIds(bytes).includes(8)) problems.push('has a start function');
  if (problems.length > 0) throw new Error(`build/adcs.wasm breaks the flight-software ABI: ${problems.join('; ')}`);
}

/**
 * Compile build/adcs.wasm unless it is up to date (or `force`). Resolves to its path and whether it was
 * compiled; rejects with the compiler's diagnostics on failure.
 */
export async function buildFlightSoftware({ force = false } = {}) {
  if (!force && (await isUpToDate())) return { path: outFile, built: false };

  let binary;
  const diagnostics = [];
  const stream = { write: (text) => diagnostics.push(String(text)) };
  const { error } = await asc.main(['--config', 'asconfig.json', '--target', 'release', '--baseDir', root], {
    stdout: stream,
    stderr: stream,
    // Keep the binary in memory; it is checked, then written atomically (a concurrent reader never
    // sees half a file).
    writeFile: (name, contents) => {
      if (name.endsWith('.wasm')) binary = contents;
    },
  });
  if (error) throw new Error(`asc failed: ${error.message}\n${diagnostics.join('')}`);
  if (!binary) throw new Error(`asc produced no binary\n${diagnostics.join('')}`);
  checkAbi(binary);

  await mkdir(dirname(outFile), { recursive: true });
  const temporary = `${outFile}.${process.pid}.tmp`;
  await writeFile(temporary, binary);
  await rename(temporary, outFile);
  return { path: outFile, built: true };
}

// Build whenever the script runs, including when another script imports it (scripts/build.mjs does).
const runDirectly = import.meta.url === pathToFileURL(process.argv[1] ?? '').href;
const { path, built } = await buildFlightSoftware({ force: runDirectly && process.argv.includes('--force') });
if (runDirectly) console.log(`${relative(process.cwd(), path)} ${built ? 'built' : 'up to date'}`);
