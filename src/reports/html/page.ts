// One self-contained HTML page: the charting library (uPlot, the exact version package.json pins, read
// from node_modules when the report is written: no CDN, opens offline), the report's stylesheet and
// drawing script (assets/report/), the data as JSON, and the tables and text written here. Nothing in
// it depends on the time or the machine: the same inputs give the same bytes.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
/** The same from src/ (tests) and dist/ (the command line): both sit two levels below the package root. */
const ASSETS = fileURLToPath(new URL('../../../assets/report/', import.meta.url));

export class ReportAssetError extends Error {}

function readAsset(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ReportAssetError(`${what} (${path}) cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): reinstall lockstep (npm ci)`);
  }
}

interface Library {
  readonly script: string;
  readonly css: string;
  readonly license: string;
}

let library: Library | null = null;

/** uPlot's script, stylesheet and licence, read once per process. */
function uplot(): Library {
  if (library) return library;
  let root: string;
  try {
    root = dirname(require.resolve('uplot/package.json'));
  } catch {
    throw new ReportAssetError('the charting library uPlot is not installed: reinstall lockstep (npm ci)');
  }
  library = {
    script: readAsset(join(root, 'dist', 'uPlot.iife.min.js'), 'uPlot'),
    css: readAsset(join(root, 'dist', 'uPlot.min.css'), 'uPlot\'s stylesheet'),
    license: readAsset(join(root, 'LICENSE'), 'uPlot\'s licence'),
  };
  return library;
}

/** Text placed inside <script> or <style> must not close it early. */
function inlined(text: string, tag: 'script' | 'style'): string {
  return text.replace(new RegExp(`</(${tag})`, 'gi'), '<\\/$1');
}

/** Text placed in HTML as text or in an attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON inside <script type="application/json">: `<` escaped, so no string in it can end the element. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export interface PageOptions {
  readonly title: string;
  /** The report's body, already HTML: headings, tables, the empty chart containers the script fills. */
  readonly body: string;
  /** What the drawing script reads (JSON.parse of #report-data). */
  readonly data: unknown;
  /** The report's own script in assets/report/ (flight.js, campaign.js), run after the shared charts.js. */
  readonly script: 'flight.js' | 'campaign.js';
}

export function htmlPage({ title, body, data, script }: PageOptions): string {
  const chart = uplot();
  const css = readAsset(join(ASSETS, 'report.css'), 'the report stylesheet');
  const shared = readAsset(join(ASSETS, 'charts.js'), 'the report charts script');
  const own = readAsset(join(ASSETS, script), `the report script ${script}`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="lockstep">
<title>${escapeHtml(title)}</title>
<style>${inlined(chart.css, 'style')}</style>
<style>${inlined(css, 'style')}</style>
</head>
<body>
${body}
<script type="application/json" id="report-data">${jsonForScript(data)}</script>
<!-- uPlot, inlined so that the report opens offline. Its licence:
${chart.license.replace(/--/g, '- -').trim()}
-->
<script>${inlined(chart.script, 'script')}</script>
<script>${inlined(shared, 'script')}</script>
<script>${inlined(own, 'script')}</script>
</body>
</html>
`;
}
