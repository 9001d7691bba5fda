// How heavy an HTML report is and how long it takes to open: for each file given, its size and the time
// from navigation to the charts painted (the load event, then two animation frames, by the page's own
// clock), the median of several loads in headless Chromium, one browser for all. The figures in
// docs/reports.md come from it:
//   node scripts/report-open-time.mjs [--runs N] [--screenshot DIR] [--viewport WxH] FILE.html...
// (--screenshot keeps the first screen of each, as README's pictures of the reports were taken).
// Chromium: Debian's (apt-get install chromium), or LOCKSTEP_CHROMIUM=/path/to/chrome.
import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
let runs = 5;
let screenshots = null;
let viewport = { width: 1200, height: 900 };
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') runs = Number(args[++i]);
  else if (args[i] === '--screenshot') screenshots = args[++i];
  else if (args[i] === '--viewport') {
    const [width, height] = args[++i].split('x').map(Number);
    viewport = { width, height };
  }
  else files.push(resolve(args[i]));
}
if (files.length === 0 || !(runs >= 1)) {
  console.error('usage: node scripts/report-open-time.mjs [--runs N] [--screenshot DIR] [--viewport WxH] FILE.html...');
  process.exit(2);
}
const executablePath = (process.env.LOCKSTEP_CHROMIUM ? [process.env.LOCKSTEP_CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser']).find((path) => existsSync(path));
if (!executablePath) {
  console.error('Chromium is not installed (Debian: apt-get install chromium; or set LOCKSTEP_CHROMIUM)');
  process.exit(2);
}

const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
try {
  for (const file of files) {
    const times = [];
    for (let run = 0; run < runs; run++) {
      const page = await browser.newPage({ viewport });
      await page.goto(`file://${file}`, { waitUntil: 'load' });
      times.push(await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => done(performance.now()))))));
      if (screenshots && run === 0) await page.screenshot({ path: join(screenshots, basename(file).replace(/\.html$/, '.png')) });
      await page.close();
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    console.log(`${file}: ${statSync(file).size} bytes, opens in ${median.toFixed(0)} ms (median of ${runs}; ${times.map((t) => t.toFixed(0)).join(', ')})`);
  }
} finally {
  await browser.close();
}
