// Builds the reference flight software, assembly/ → build/adcs.wasm, with the options in asconfig.json
// (target "release"). Cached: nothing is compiled when the output is newer than every input (the
// sources, asconfig.json, this script and the installed compiler). The result is checked against the
// flight-software ABI before it is written: imports from module "bus" only, exports exactly init, step
// and memory, no start function.
//
//   node scripts/build-fsw.mjs [--force]
//   await import('./build-fsw.mjs');   // as a script: importing it builds (cached)
//   import { buildFlightSoftware } from './build-fsw.mjs'; await buildFlightSoftware({ force: true });

import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkAbi, compileToMemory, isNewerThan, listSources, writeAtomic } from './asc-tools.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outFile = join(root, 'build', 'adcs.wasm');

async function isUpToDate() {
  const inputs = [...(await listSources(join(root, 'assembly'))), join(root, 'asconfig.json'), fileURLToPath(import.meta.url), join(root, 'scripts', 'asc-tools.mjs')];
  return isNewerThan(outFile, inputs);
}

/**
 * Compile build/adcs.wasm unless it is up to date (or `force`). Resolves to its path and whether it was
 * compiled; rejects with the compiler's diagnostics on failure.
 */
export async function buildFlightSoftware({ force = false } = {}) {
  if (!force && (await isUpToDate())) return { path: outFile, built: false };

  const binary = await compileToMemory(['--config', 'asconfig.json', '--target', 'release', '--baseDir', root], 'assembly/');
  checkAbi('build/adcs.wasm', binary);
  await writeAtomic(outFile, binary);
  return { path: outFile, built: true };
}

// Build whenever the script runs, including when another script imports it (scripts/build.mjs does).
const runDirectly = import.meta.url === pathToFileURL(process.argv[1] ?? '').href;
const { path, built } = await buildFlightSoftware({ force: runDirectly && process.argv.includes('--force') });
if (runDirectly) console.log(`${relative(process.cwd(), path)} ${built ? 'built' : 'up to date'}`);
