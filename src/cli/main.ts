// The `lockstep` command line: one subcommand per job (fly, hil, campaign, merge, replay, harden, inspect,
// init, bench, tradestudy), user mistakes answered with one clear line and a distinct exit code (errors.ts).
import { Command, CommanderError } from 'commander';
import { registerBench } from './bench-command.js';
import { registerCampaign } from './campaign-command.js';
import { registerMerge } from './merge-command.js';
import { registerReplay } from './replay-command.js';
import { EXIT, exitCodeFor } from './errors.js';
import { registerFly } from './fly-command.js';
import { registerHarden } from './harden-command.js';
import { registerHil } from './hil-command.js';
import { registerInit } from './init-command.js';
import { registerInspect } from './inspect-command.js';
import { registerTradeStudy } from './tradestudy-command.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('lockstep')
    .description('a redundant lock-step flight computer of WebAssembly cores, flying a satellite under upsets')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  registerFly(program);
  registerBench(program);
  registerInspect(program);
  registerInit(program);
  registerCampaign(program);
  registerMerge(program);
  registerReplay(program);
  registerHarden(program);
  registerHil(program);
  registerTradeStudy(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv as string[], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has printed its message (or the help) already.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const code = exitCodeFor(error);
    if (code === null) throw error;
    process.stderr.write(`lockstep: ${(error as Error).message}\n`);
    return code;
  }
}
