// Builds the reference flight software, assembly/ → build/adcs.wasm, with the options in asconfig.json
// (target "release"), with its name section and source map (build/adcs.wasm.map). Cached: nothing is compiled when the output is newer than every input (the
// sources, asconfig.json, this script and the installed compiler). The result is checked against the
// flight-software ABI before it is written: imports from module "bus" only, exports exactly init, step
// and memory, no start function.
//
//   node scripts/build-fsw.mjs [--force]
//   await import('./build-fsw.mjs');   // as a script: importing it builds (cached)
//   import { buildFlightSoftware } from './build-fsw.mjs'; await buildFlightSoftware({ force: true });

import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkAbi, compileWithSourceMap, isNewerThan, listSources, writeAtomic } from './asc-tools.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outFile = join(root, 'build', 'adcs.wasm');
// Its source map (asconfig.json), which the module's sourceMappingURL section names: instruction offsets
// to lines of assembly/, for the campaign's byLine and replay. Cores never see it (src/source/).
const mapFile = `${outFile}.map`;

async function isUpToDate() {
  const inputs = [...(await listSources(join(root, 'assembly'))), join(root, 'asconfig.json'), fileURLToPath(import.meta.url), join(root, 'scripts', 'asc-tools.mjs')];
  return (await isNewerThan(outFile, inputs)) && (await isNewerThan(mapFile, inputs));
}

/**
 * Compile build/adcs.wasm unless it is up to date (or `force`). Resolves to its path and whether it was
 * compiled; rejects with the compiler's diagnostics on failure.
 */
export async function buildFlightSoftware({ force = false } = {}) {
  if (!force && (await isUpToDate())) return { path: outFile, built: false };

  const { binary, sourceMap } = await compileWithSourceMap(['--config', 'asconfig.json', '--target', 'release', '--baseDir', root], 'assembly/');
  checkAbi('build/adcs.wasm', binary);
  if (!sourceMap) throw new Error('asc wrote no source map for build/adcs.wasm (asconfig.json: sourceMap)');
  // The map first: a module never names a map that is not there yet.
  // Without the sources' text, which the map does not need to name lines (and which is mostly the standard
  // library's), and without asc's sourceRoot (the output's name), so that sources read assembly/x.ts.
  const { sourcesContent: _text, sourceRoot: _root, ...map } = JSON.parse(Buffer.from(sourceMap).toString('utf8'));
  await writeAtomic(mapFile, `${JSON.stringify(map)}\n`);
  await writeAtomic(outFile, binary);
  return { path: outFile, built: true };
}

// Build whenever the script runs, including when another script imports it (scripts/build.mjs does).
const runDirectly = import.meta.url === pathToFileURL(process.argv[1] ?? '').href;
const { path, built } = await buildFlightSoftware({ force: runDirectly && process.argv.includes('--force') });
if (runDirectly) console.log(`${relative(process.cwd(), path)} ${built ? 'built' : 'up to date'}`);
