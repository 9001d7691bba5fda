// JUnit XML for CI systems (Jenkins, GitLab, GitHub's test reporters): one test suite per command, one test
// case per requirement, a failure for each not met, skipped for those not evaluated or waived. Checked
// against Jenkins' JUnit schema (test/fixtures/jenkins-junit-4.xsd). No times or dates, so that the file
// of a run is the same bytes every time.
import { verdictName, type RequirementVerdict } from './requirements.js';

/** Characters XML 1.0 cannot hold at all (even escaped) are replaced: a requirement ID is user text. */
function xmlText(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export interface JunitSuite {
  /** `lockstep fly`, `lockstep campaign`. */
  readonly name: string;
  /** The test cases' classname: `lockstep.fly`. */
  readonly classname: string;
  /** What the run was (seed, scenario, flight software), as suite properties. */
  readonly properties: Readonly<Record<string, string | number | boolean>>;
  readonly verdicts: readonly RequirementVerdict[];
}

export function junitXml(suite: JunitSuite): string {
  const count = (status: RequirementVerdict['status']) => suite.verdicts.filter((verdict) => verdict.status === status).length;
  const failures = count('not-met');
  const skipped = count('not-evaluated') + count('waived');
  const tests = suite.verdicts.length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlText(suite.name)}" tests="${tests}" failures="${failures}" errors="0">`,
    `  <testsuite name="${xmlText(suite.name)}" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}">`,
  ];
  const properties = Object.entries(suite.properties);
  if (properties.length > 0) {
    lines.push('    <properties>');
    for (const [name, value] of properties) lines.push(`      <property name="${xmlText(name)}" value="${xmlText(String(value))}"/>`);
    lines.push('    </properties>');
  }
  for (const verdict of suite.verdicts) {
    const name = verdictName(verdict);
    const open = `    <testcase name="${xmlText(name)}" classname="${xmlText(suite.classname)}"`;
    if (verdict.status === 'met') {
      lines.push(`${open}>`, `      <system-out>${xmlText(verdict.detail)}</system-out>`, '    </testcase>');
    } else if (verdict.status === 'not-met') {
      lines.push(`${open}>`, `      <failure type="${verdict.requirement}" message="${xmlText(verdict.detail)}">${xmlText(verdict.detail)}</failure>`, '    </testcase>');
    } else {
      const why = verdict.status === 'waived' ? `waived: ${verdict.detail}` : `not evaluated: ${verdict.detail}`;
      lines.push(`${open}>`, `      <skipped>${xmlText(why)}</skipped>`, '    </testcase>');
    }
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}
