// One self-contained HTML page: the charting library (uPlot, the exact version package.json pins, read
// from node_modules when the report is written: no CDN, opens offline), the report's stylesheet and
// drawing script (assets/report/), the data as JSON, and the tables and text written here. Nothing in
// it depends on the time or the machine: the same inputs give the same bytes.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OutputError } from '../../output/files.js';

const require = createRequire(import.meta.url);
/** The same from src/ (tests) and dist/ (the command line): both sit two levels below the package root. */
const ASSETS = fileURLToPath(new URL('../../../assets/report/', import.meta.url));

/** The report's pieces cannot be read: an installation problem, said as the report that cannot be written. */
export class ReportAssetError extends OutputError {}

function readAsset(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ReportAssetError(`${what} (${path}) cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): reinstall lockstep (npm ci)`);
  }
}

interface Assets {
  readonly uplotScript: string;
  readonly uplotCss: string;
  readonly uplotLicense: string;
  readonly css: string;
  readonly charts: string;
  readonly scripts: Readonly<Record<PageOptions['script'], string>>;
}

let assets: Assets | null = null;

/**
 * Everything a page inlines, read once per process. The commands call it before their work starts, so
 * that a broken installation is said before a long flight or campaign rather than after it.
 */
export function reportAssets(): Assets {
  if (assets) return assets;
  let root: string;
  try {
    root = dirname(require.resolve('uplot/package.json'));
  } catch {
    throw new ReportAssetError('the charting library uPlot is not installed: reinstall lockstep (npm ci)');
  }
  assets = {
    uplotScript: readAsset(join(root, 'dist', 'uPlot.iife.min.js'), 'uPlot'),
    uplotCss: readAsset(join(root, 'dist', 'uPlot.min.css'), "uPlot's stylesheet"),
    uplotLicense: readAsset(join(root, 'LICENSE'), "uPlot's licence"),
    css: readAsset(join(ASSETS, 'report.css'), 'the report stylesheet'),
    charts: readAsset(join(ASSETS, 'charts.js'), 'the report charts script'),
    scripts: {
      'flight.js': readAsset(join(ASSETS, 'flight.js'), 'the report script flight.js'),
      'campaign.js': readAsset(join(ASSETS, 'campaign.js'), 'the report script campaign.js'),
    },
  };
  return assets;
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
  const a = reportAssets();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="lockstep">
<title>${escapeHtml(title)}</title>
<style>${inlined(a.uplotCss, 'style')}</style>
<style>${inlined(a.css, 'style')}</style>
</head>
<body>
${body}
<script type="application/json" id="report-data">${jsonForScript(data)}</script>
<!-- uPlot, inlined so that the report opens offline. Its licence:
${a.uplotLicense.replace(/--/g, '- -').trim()}
-->
<script>${inlined(a.uplotScript, 'script')}</script>
<script>${inlined(a.charts, 'script')}</script>
<script>${inlined(a.scripts[script], 'script')}</script>
</body>
</html>
`;
}
