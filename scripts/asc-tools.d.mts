// Types of scripts/asc-tools.mjs, for the tests that compile AssemblyScript fixtures with it.

/** Runs asc with `args`, keeping the binary in memory; rejects with the compiler's diagnostics. */
export function compileToMemory(args: string[], label: string): Promise<Uint8Array>;
