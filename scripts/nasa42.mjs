// npm run nasa42 [-- --source DIR] [--cache DIR]: builds NASA 42 headless with its AC socket interface, from
// its source (default ../shared/nasa42 beside the project) into build/nasa42/<hash>/, the known defect
// fixed; cached, so a second run with the same source answers at once (src/hil/nasa42-build.ts). A
// mistake or a failed build gets one line and the exit code of its kind (docs/cli.md#exit-codes).
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { buildNasa42 } from '../dist/hil/nasa42-build.js';

// The exit codes are the command line's; loaded only on a refusal (they bring the whole CLI with them).
const errors = () => import('../dist/cli/errors.js');

const HELP = `usage: npm run nasa42 -- [--source DIR] [--cache DIR]
  --source DIR   42's source tree (also --nasa42 DIR; default ../shared/nasa42 beside the project)
  --cache DIR    where builds are kept (default build/nasa42)`;

async function refuse(message, kind) {
  process.stderr.write(`nasa42: ${message}\n`);
  process.exitCode = typeof kind === 'number' ? kind : (await errors()).EXIT[kind];
}

let values;
try {
  ({ values } = parseArgs({
    options: { source: { type: 'string' }, nasa42: { type: 'string' }, cache: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  }));
} catch (error) {
  await refuse(`${error.message}\n${HELP}`, 'usage');
}

if (values?.help) {
  process.stdout.write(`${HELP}\n`);
} else if (values && values.source !== undefined && values.nasa42 !== undefined && values.source !== values.nasa42) {
  await refuse('give --source or --nasa42, not both', 'usage');
} else if (values) {
  try {
    const build = await buildNasa42({ source: values.source ?? values.nasa42, cache: values.cache });
    const where = relative(process.cwd(), build.binary) || build.binary;
    const patch = build.patch === 'applied' ? 'known defect of ScIPC.c patched' : 'ScIPC.c was already fixed: built as is';
    process.stdout.write(build.cached ? `42 up to date: ${where} (built in ${build.seconds.toFixed(1)} s; ${patch})\n` : `42 built in ${build.seconds.toFixed(1)} s: ${where} (${patch})\n`);
  } catch (error) {
    const code = (await errors()).exitCodeFor(error);
    if (code === null) throw error;
    await refuse(error.message, code);
  }
}
