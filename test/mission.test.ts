// Mission files: the schema published for editors matches the one that validates, the shipped missions
// fly like their scenarios, every bad value is answered by naming its field, and — as properties over
// generated garbage and mutated valid missions — the loader never throws anything but a ConfigError.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, missionJsonSchema, parseMission, scenarioOf, startingMission, type MissionInput } from '../src/mission/config.js';
import { largeScenario, referenceScenario } from '../src/plant/scenario.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const readJson = (path: string) => JSON.parse(readFileSync(join(ROOT, path), 'utf8'));

describe('published schema and shipped missions', () => {
  it('schema/mission.schema.json is the schema that validates missions (run `npm run schema` after changing it)', () => {
    expect(readJson('schema/mission.schema.json')).toEqual(missionJsonSchema());
  });

  it('the schema describes every field an editor completes', () => {
    const schema = missionJsonSchema() as { properties: Record<string, { description?: string }> };
    for (const [field, property] of Object.entries(schema.properties)) {
      expect(property.description, field).toBeTruthy();
    }
  });

  it('missions/reference.json and missions/large.json spell out their scenarios exactly', () => {
    for (const [name, scenario] of [['reference', referenceScenario()], ['large', largeScenario()]] as const) {
      const file = readJson(`missions/${name}.json`);
      expect(file).toEqual(startingMission(name, '../schema/mission.schema.json'));
      expect(scenarioOf(parseMission(file, name))).toEqual(scenarioOf(parseMission({ scenario: name }, name)));
      expect(scenarioOf(parseMission(file, name))).toEqual({ ...scenario, gyro: { noiseSigma: scenario.gyro.noiseSigma, biasSigma: scenario.gyro.biasSigma, bias: undefined } });
    }
  });
});

describe('bad values, each named', () => {
  const refused = (input: unknown): string => {
    try {
      parseMission(input, 'm.json');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error(`accepted ${JSON.stringify(input)}`);
  };
  const cases: Array<[string, MissionInput | unknown, RegExp]> = [
    ['a wrong type', { spare: 3 }, /^m\.json: spare: /],
    ['an unknown field', { sparee: 'hot' }, /^m\.json: \(top level\): Unrecognized key.*sparee/],
    ['an unknown nested field', { spacecraft: { wheels: { maxTorque: 1, maxMomentum: 1, wheelInertia: 1, speed: 2 } } }, /spacecraft\.wheels: Unrecognized key/],
    ['a negative inertia', { spacecraft: { inertia: [100, -200, 300] } }, /^m\.json: spacecraft\.inertia\[1\]: /],
    ['a zero control period', { controlPeriod: 0 }, /^m\.json: controlPeriod: /],
    ['NaN', { clockHz: Number.NaN }, /^m\.json: clockHz: /],
    ['an infinite duration', { duration: Number.POSITIVE_INFINITY }, /^m\.json: duration: /],
    ['a quaternion that is not unit', { targetAttitude: [0, 0, 0, 2] }, /targetAttitude: must be a unit quaternion/],
    ['a quaternion of three numbers', { targetAttitude: [0, 0, 1] }, /^m\.json: targetAttitude/],
    ['two upset sources', { upsets: { count: 3, ratePerBitPerDay: 1e-9 } }, /upsets: give one of count, ratePerBitPerDay or file/],
    ['a fractional seed', { seed: 1.5 }, /^m\.json: seed: /],
    ['a channel map with a number', { channels: { 'gyro.x': 7 } }, /^m\.json: channels\.gyro\.x: /],
    ['not an object', [1, 2], /^m\.json: \(top level\): /],
    ['a mission of no cycle', { duration: 1e-300 }, /^m\.json: duration: 1e-300 s is less than half a controlPeriod \(0\.1 s\): a mission must have at least one cycle/],
    ['a mission of too many cycles', { controlPeriod: 1e-9, duration: 10, clockHz: 1e12 }, /^m\.json: duration \/ controlPeriod: 10 s \/ 1e-9 s is 10000000000 cycles; at most 100000000 are flown/],
    ['a cycle budget below one instruction', { clockHz: 1.5 }, /^m\.json: clockHz: 1\.5 Hz × watchdogFraction 0\.4 × controlPeriod 0\.1 s gives a cycle budget of 0 instructions; at least 1 is needed/],
  ];
  for (const [name, input, message] of cases) it(name, () => expect(refused(input)).toMatch(message));
});

describe('the loader answers every input', () => {
  const answered = (input: unknown) => {
    try {
      parseMission(input, 'fuzz.json');
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      expect((error as Error).message).toMatch(/^fuzz\.json: /);
    }
  };

  it('arbitrary JSON values', () => {
    fc.assert(fc.property(fc.jsonValue(), answered), { numRuns: 500 });
  });

  it('a valid mission with one field replaced by anything', () => {
    const valid = startingMission('reference', 'schema.json');
    const paths: string[][] = [];
    const collect = (value: unknown, path: string[]) => {
      paths.push(path);
      if (value && typeof value === 'object') for (const [key, child] of Object.entries(value)) collect(child, [...path, key]);
    };
    collect(valid, []);
    fc.assert(
      fc.property(fc.constantFrom(...paths.filter((path) => path.length > 0)), fc.anything(), (path, replacement) => {
        const mutated = structuredClone(valid) as Record<string, unknown>;
        let parent = mutated as Record<string, unknown>;
        for (const key of path.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
        parent[path[path.length - 1]] = replacement;
        answered(mutated);
      }),
      { numRuns: 500 },
    );
  });
});
