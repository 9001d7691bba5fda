// What the AssemblyScript build scripts (build-fsw.mjs, build-kernels.mjs) share: finding sources, the
// up-to-date check that makes the builds cached, compiling to memory with asc, a quick ABI check of the
// binary before it is written, and the atomic write (a concurrent reader never sees half a module).
import asc from 'assemblyscript/asc';
import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const compilerPackage = createRequire(import.meta.url).resolve('assemblyscript/package.json');

/** Every .ts file below `directory`. */
export async function listSources(directory) {
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

/** Whether `output` exists and is newer than every one of `inputs` (and the compiler). */
export async function isNewerThan(output, inputs) {
  const built = await stat(output).catch(() => undefined);
  if (!built) return false;
  const times = await Promise.all([...inputs, compilerPackage].map(async (path) => (await stat(path)).mtimeMs));
  return times.every((time) => time < built.mtimeMs);
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

/**
 * The flight-software ABI, checked on a fresh binary: bus function imports only (of `allowedChannels`
 * when given, and then no debug outputs), exports exactly init, step and memory (and the optional persistent region's two functions,
 * both or neither), no start function. Throws naming `label`.
 */
export function checkAbi(label, bytes, allowedChannels = null) {
  const module = new WebAssembly.Module(bytes);
  const problems = [];
  for (const { module: from, name, kind } of WebAssembly.Module.imports(module)) {
    if (from === 'debug' && kind === 'function' && !allowedChannels) continue; // debug outputs (docs/abi.md)
    if (from !== 'bus') problems.push(`imports ${from}.${name}; only modules "bus" and "debug" are allowed`);
    else if (kind !== 'function') problems.push(`imports a ${kind} bus.${name}; only bus functions are allowed`);
    else if (allowedChannels && !allowedChannels.includes(name)) problems.push(`imports bus.${name}; only ${allowedChannels.join(', ')} are allowed`);
  }
  const exports = WebAssembly.Module.exports(module)
    .map(({ name }) => name)
    .sort();
  const expected = ['init,memory,step', 'init,memory,persistent_length,persistent_offset,step'];
  if (!expected.includes(exports.join())) problems.push(`exports ${exports.join(', ')}; expected init, memory, step (and persistent_offset with persistent_length, or neither)`);
  if (sectionIds(bytes).includes(8)) problems.push('has a start function');
  if (problems.length > 0) throw new Error(`${label} breaks the flight-software ABI: ${problems.join('; ')}`);
}

/**
 * Runs asc with `args`, keeping the binary (and its source map, when the options ask for one) in memory;
 * rejects with the compiler's diagnostics.
 */
export async function compileWithSourceMap(args, label) {
  let binary;
  let sourceMap;
  const diagnostics = [];
  const stream = { write: (text) => diagnostics.push(String(text)) };
  const { error } = await asc.main(args, {
    stdout: stream,
    stderr: stream,
    writeFile: (file, contents) => {
      if (file.endsWith('.wasm')) binary = contents;
      else if (file.endsWith('.wasm.map')) sourceMap = contents;
    },
  });
  if (error) throw new Error(`asc failed on ${label}: ${error.message}\n${diagnostics.join('')}`);
  if (!binary) throw new Error(`asc produced no binary for ${label}\n${diagnostics.join('')}`);
  return { binary, sourceMap };
}

/** Runs asc with `args`, keeping the binary in memory; rejects with the compiler's diagnostics. */
export async function compileToMemory(args, label) {
  return (await compileWithSourceMap(args, label)).binary;
}

/** Writes a file whole or not at all. */
export async function writeAtomic(path, bytes) {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, bytes);
  await rename(temporary, path);
}
