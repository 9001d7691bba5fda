// Vitest global setup: `npm run build` once before the suite (the flight-software build is cached; tsc
// rebuilds dist/ from the current sources so that the CLI tests run what the other tests import).
import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
}
