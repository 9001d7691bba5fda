// `lockstep init [FILE]`: writes a starting mission file — every field spelled out with the scenario's
// values — that names its JSON Schema, so that an editor completes and checks it and shows what each
// field means. It never overwrites a file unless asked to.
import { existsSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { startingMission } from '../mission/config.js';
import { OutputError, writeJson } from '../output/files.js';
import { UsageError } from './errors.js';

export const MISSION_SCHEMA = fileURLToPath(new URL('../../schema/mission.schema.json', import.meta.url));

interface InitOptions {
  scenario: string;
  force?: boolean;
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('write a starting mission file that names its JSON Schema')
    .argument('[file]', 'the mission file to write', 'mission.json')
    .option('--scenario <name>', 'reference | large', 'reference')
    .option('--force', 'overwrite an existing file')
    .action((file: string, options: InitOptions) => {
      if (options.scenario !== 'reference' && options.scenario !== 'large') {
        throw new UsageError(`--scenario: "${options.scenario}" is not a scenario (reference, large)`);
      }
      const target = resolve(file);
      if (existsSync(target) && !options.force) throw new OutputError(`${file}: exists already (--force overwrites it)`);
      const schemaPath = relative(dirname(target), MISSION_SCHEMA).split(sep).join('/');
      writeJson(target, startingMission(options.scenario, schemaPath));
      process.stdout.write(`wrote ${file} (${options.scenario} scenario; schema ${schemaPath})\n`);
    });
}
