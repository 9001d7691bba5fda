// npm run build (and `prepare`, so that `npm install` leaves everything built): the reference flight
// software (AssemblyScript → build/adcs.wasm, skipped when up to date) and the TypeScript (→ dist/).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
await import('./build-fsw.mjs');
await import('./build-kernels.mjs');
const tsc = require.resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit' });
