// The HTML reports (`fly --report`, `campaign --report`) as a reader opens them: written by the commands
// as a user runs them, then loaded in a real headless Chromium (Debian's `chromium`, driven by
// playwright-core; one browser for every page) with every request that leaves the file refused, so that a
// page that needs the network fails. Each page must load with no console error and every chart must have
// drawn its data (coloured pixels on its canvas, not only axes); a screenshot of each is kept in
// artifacts/reports/. Without Chromium these tests are skipped saying why, except in CI (CI=true), where
// .ci/run installs it and its absence fails them. Also: the same flight gives the same bytes, `merge`
// writes the campaign's page byte for byte, the report goes through the output files (refused beside
// another output on the same file), the library's functions, and the pieces that gather and shape the data.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignReport } from '../src/campaign/report.js';
import { readResults } from '../src/campaign/results-file.js';
import type { TelemetryRow } from '../src/mission/fly.js';
import type { FlySummary } from '../src/reports/flight-summary.js';
import { campaignReportHtml, functionRowsOf } from '../src/reports/html/campaign-report.js';
import { flightReportHtml } from '../src/reports/html/flight-report.js';
import { extraValuesOf, FlightSeriesRecorder, MAX_BUCKETS } from '../src/reports/html/flight-series.js';
import { campaignWithReport, fly, flyWithReport } from '../src/index.js';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const ARTIFACTS = join(ROOT, 'artifacts', 'reports');
// LOCKSTEP_CHROMIUM, when set, is the only browser tried.
const CHROMIUM = (process.env.LOCKSTEP_CHROMIUM ? [process.env.LOCKSTEP_CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser']).find((path) => existsSync(path));
const noChromium = CHROMIUM ? null : 'Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it; or set LOCKSTEP_CHROMIUM to its path)';
// In CI a missing browser is a failure, not a skip: the reports would otherwise go untested unnoticed.
const skipBrowser = noChromium !== null && !process.env.CI;
if (skipBrowser) console.warn(`HTML report browser tests skipped: ${noChromium}`);

let dir: string;
const path = (name: string) => join(dir, name);

function lockstep(args: readonly string[]) {
  const result = spawnSync(process.execPath, ['bin/lockstep.js', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A telemetry row of a synthetic flight: what the report draws, plus the debug values another build may add. */
function row(cycle: number, extra: Record<string, unknown> = {}): TelemetryRow {
  return {
    cycle,
    time: cycle / 10,
    pointingErrorDeg: 0.001 + Math.abs(Math.sin(cycle / 50)) * 0.0005,
    torque: [0, 0, 0],
    mode: 1,
    released: true,
    detection: '',
    failover: false,
    missedDeadline: false,
    modelledMs: 2.5,
    controllerState: cycle >= 200 && cycle < 230 ? 'reintegrating' : 'duplex',
    ...extra,
  } as TelemetryRow;
}

const FLY_ARGS = ['fly', '--duration', '60', '--upsets', '12', '--quiet'];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-html-'));
  const fly = lockstep([...FLY_ARGS, '--report', path('fly.html'), '--json', path('fly.json')]);
  expect(fly.stderr).toBe('');
  expect(fly.status).toBe(0);
  const campaign = lockstep(['campaign', '--duration', '10', '--experiments', '300', '--configs', 'single,pair,pair+spare,swift', '--report', path('campaign.html'), '--out', path('campaign.jsonl'), '--quiet']);
  expect(campaign.stderr).toBe('');
  expect(campaign.status).toBe(0);
}, 240_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the reports as written', () => {
  it('are self-contained: no script, stylesheet or image from the network', () => {
    for (const name of ['fly.html', 'campaign.html']) {
      const html = readFileSync(path(name), 'utf8');
      expect(html).toMatch(/^<!doctype html>/);
      expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']?(https?:)?\/\//i);
      expect(html).toContain('https://github.com/leeoniya/uPlot (v1.6.32)');
    }
  });

  it('are the same bytes for the same flight', () => {
    const again = lockstep([...FLY_ARGS, '--report', path('fly-again.html')]);
    expect(again.status).toBe(0);
    expect(readFileSync(path('fly-again.html')).equals(readFileSync(path('fly.html')))).toBe(true);
  });

  it('merge --report of a campaign\'s results file is the page the campaign wrote, byte for byte', () => {
    const merge = lockstep(['merge', path('campaign.jsonl'), '--report', path('merged.html'), '--quiet']);
    expect(merge.stderr).toBe('');
    expect(merge.status).toBe(0);
    expect(readFileSync(path('merged.html')).equals(readFileSync(path('campaign.html')))).toBe(true);
  });

  it('go through the output files: one file for two outputs is refused before the flight, naming both options', () => {
    const clash = lockstep([...FLY_ARGS, '--report', path('same.html'), '--json', path('same.html')]);
    expect(clash.status).toBe(7);
    expect(clash.stderr).toContain('--json and --report name the same file');
    expect(clash.stderr).not.toContain('    at ');
    expect(existsSync(path('same.html'))).toBe(false);
    const unwritable = lockstep([...FLY_ARGS, '--report', path('no/such/dir/fly.html')]);
    expect(unwritable.status).toBe(7);
    expect(unwritable.stderr).toContain('fly.html: cannot be written (ENOENT)');
    const campaign = lockstep(['campaign', '--experiments', '10', '--duration', '5', '--out', path('c.jsonl'), '--report', path('c.jsonl'), '--quiet']);
    expect(campaign.status).toBe(7);
    expect(campaign.stderr).toContain('--out and --report name the same file');
  });
});

describe('the library', () => {
  it('flyWithReport: the summary fly() returns, and the page of fly --report', () => {
    const mission = { duration: 5, upsets: { count: 3 } };
    const { summary, html } = flyWithReport({ mission });
    expect(summary).toEqual(fly({ mission }));
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('id="pointing-chart"');
  });

  it('campaignWithReport: the result campaign() returns, and the page of campaign --report', async () => {
    const { result, html } = await campaignWithReport({ mission: { duration: 5 }, experiments: 40, configs: ['pair', 'pair+spare'] });
    expect(result.experiments).toBe(40);
    expect(html).toContain('id="rates-all-targets"');
    expect(html).toContain('id="latency-chart"');
  });
});

describe('flight series', () => {
  it('a flight longer than the buckets keeps every peak: neighbours merge, the envelope holds the extremes', () => {
    const recorder = new FlightSeriesRecorder();
    const cycles = 100_000;
    for (let cycle = 0; cycle < cycles; cycle++) recorder.add(row(cycle, { pointingErrorDeg: cycle === 77_777 ? 3 : 0.001, modelledMs: cycle === 4 ? 0.5 : 2.5 }));
    const series = recorder.series();
    expect(series.cyclesPerPoint).toBe(8);
    expect(series.pointingErrorDeg.max.length).toBe(Math.ceil(cycles / 8));
    expect(series.pointingErrorDeg.max.length).toBeLessThanOrEqual(MAX_BUCKETS);
    expect(series.pointingErrorDeg.max[Math.floor(77_777 / 8)]).toBe(3);
    expect(Math.max(...series.pointingErrorDeg.max.map(Number))).toBe(3);
    expect(series.modelledMs.min[0]).toBe(0.5);
    expect(series.modelledMs.max[0]).toBe(2.5);
    expect(series.controllerStates).toEqual([
      [0, 'duplex'],
      [200, 'reintegrating'],
      [230, 'duplex'],
    ]);
  });

  it('extra named values are found in whatever shape the row carries them', () => {
    expect(extraValuesOf(row(0))).toEqual([]);
    expect(extraValuesOf(row(0, { debug: { bias_x: 1, label: 'x' } }))).toEqual([['bias_x', 1]]);
    expect(extraValuesOf(row(0, { debug: [{ name: 'q_norm', value: 0.99 }] }))).toEqual([['q_norm', 0.99]]);
    expect(extraValuesOf(row(0, { estimatorGain: 2 }))).toEqual([['estimatorGain', 2]]);
  });

  it('byFunction rows are read leniently, and anything else is no table', () => {
    expect(functionRowsOf(undefined)).toBeNull();
    expect(functionRowsOf([{ name: 'step' }])).toBeNull();
    expect(functionRowsOf([{ name: 'step', experiments: 4, outcomes: { masked: 3, sdc: { count: 1, rate: 0.25 } }, silentRate: 0.25, interval: [0.006, 0.8] }])).toEqual([
      { name: 'step', experiments: 4, outcomes: { masked: 3, sdc: 1 }, silentRate: 0.25, interval: [0.006, 0.8] },
    ]);
  });
});

describe.skipIf(skipBrowser)('the reports in Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    // Each test then fails on its own, saying why (a failed hook would only mark them skipped).
    if (noChromium) return;
    mkdirSync(ARTIFACTS, { recursive: true });
    // The pages with sections the commands draw only when the data has them: debug values, byFunction.
    const summary = JSON.parse(readFileSync(path('fly.json'), 'utf8')) as FlySummary;
    const recorder = new FlightSeriesRecorder();
    for (let cycle = 0; cycle < summary.cycles; cycle++) recorder.add(row(cycle, { debug: { bias_x: Math.sin(cycle / 40), q_norm: 1 + cycle * 1e-7 } }));
    writeFileSync(path('fly-debug.html'), flightReportHtml(summary, recorder.series()));
    const { header, records } = readResults(path('campaign.jsonl'));
    const { report, summary: campaignSummary } = campaignReport(header, records);
    const byFunction = [
      { name: 'step', experiments: 120, outcomes: { masked: 100, detected: 18, sdc: 2 }, silentRate: 2 / 120, interval: [0.002, 0.059] },
      { name: 'estimate<f64>', experiments: 80, outcomes: { masked: 80 }, silentRate: 0, interval: [0, 0.045] },
    ];
    writeFileSync(path('campaign-functions.html'), campaignReportHtml({ report: { ...report, byFunction } as unknown as typeof report, summary: campaignSummary, records, requirements: [], heading: 'lockstep campaign' }));
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox'] });
  }, 60_000);
  afterAll(async () => browser?.close());

  /** Loads a page offline; returns its console errors, the coloured pixels each chart drew, and the sections present. */
  async function open(name: string) {
    if (noChromium) throw new Error(`${noChromium}: the HTML reports cannot be tested`);
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') errors.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      requests.push(url);
      return route.abort();
    });
    await page.goto(`file://${path(name)}`, { waitUntil: 'load' });
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    const charts = await page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLElement>('.chart')).map((element) => {
        const canvas = element.querySelector('canvas');
        if (!canvas) return { chart: element.dataset.chart ?? element.id, coloured: 0 };
        const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        // Axes, grid and labels are grey: a coloured pixel is data (a series, a marker, an interval).
        let coloured = 0;
        for (let i = 0; i < pixels.length; i += 4) {
          if (pixels[i + 3] > 0 && Math.max(pixels[i], pixels[i + 1], pixels[i + 2]) - Math.min(pixels[i], pixels[i + 1], pixels[i + 2]) > 60) coloured++;
        }
        return { chart: element.dataset.chart ?? element.id, coloured };
      }),
    );
    const headings = await page.$$eval('h2', (elements) => elements.map((element) => element.textContent));
    await page.screenshot({ path: join(ARTIFACTS, name.replace(/\.html$/, '.png')), fullPage: true });
    await page.close();
    return { errors, requests, charts, headings };
  }

  function expectDrawn(charts: Array<{ chart: string; coloured: number }>) {
    for (const { chart, coloured } of charts) expect(coloured, `chart "${chart}" drew no data`).toBeGreaterThan(40);
  }

  it('fly: loads with no error and draws the pointing error, the cycle time and the debug outputs the reference publishes', async () => {
    const { errors, requests, charts, headings } = await open('fly.html');
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    expect(charts.map((c) => c.chart)).toEqual(['pointing error', 'modelled cycle time', 'gyro_bias_x', 'gyro_bias_y', 'gyro_bias_z', 'star_innovation']);
    expectDrawn(charts);
    expect(headings).toEqual(['Pointing error', 'Modelled cycle time against the deadline', 'Debug values', 'Summary']);
  });

  it('fly with debug values in its telemetry: one chart per named value', async () => {
    const { errors, charts, headings } = await open('fly-debug.html');
    expect(errors).toEqual([]);
    expect(charts.map((c) => c.chart)).toEqual(['pointing error', 'modelled cycle time', 'bias_x', 'q_norm']);
    expectDrawn(charts);
    expect(headings).toContain('Debug values');
  });

  it('campaign: loads with no error and draws the rates per target, the latency distribution and MWTF', async () => {
    const { errors, requests, charts, headings } = await open('campaign.html');
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    expect(charts.map((c) => c.chart)).toEqual(['outcome rates, memory', 'outcome rates, checkpoint', 'outcome rates, all targets', 'detection latency', 'MWTF']);
    expectDrawn(charts);
    expect(headings).not.toContain('Per function');
  });

  it('campaign with byFunction in its summary: the per-function table, and the most vulnerable functions drawn', async () => {
    const { errors, charts, headings } = await open('campaign-functions.html');
    expect(errors).toEqual([]);
    expect(headings).toContain('Per function');
    expect(charts.map((c) => c.chart)).toContain('silent rate by function');
    expectDrawn(charts);
  });
});
