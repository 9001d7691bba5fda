// npm run schema: regenerates schema/mission.schema.json (the published JSON Schema of mission files)
// and the shipped missions from the mission schema in src/mission/config.ts (built into dist/).
// A test checks that the committed files equal what this writes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { missionJsonSchema, startingMission } = await import('../dist/mission/config.js');
const write = (path, value) => {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
};
write(join(root, 'schema', 'mission.schema.json'), missionJsonSchema());
for (const scenario of ['reference', 'large']) {
  write(join(root, 'missions', `${scenario}.json`), startingMission(scenario, '../schema/mission.schema.json'));
}
console.log('wrote schema/mission.schema.json, missions/reference.json, missions/large.json');
