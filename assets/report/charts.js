// The charts both HTML reports draw, on uPlot (inlined before this script): time series with marked
// events and shaded states, rates with their 95% intervals, and distributions. Plain browser JavaScript,
// no build step: lockstep inlines this file as it is into every report (src/reports/html/page.ts).
'use strict';

const LockstepCharts = (() => {
  const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

  /** Axis labels: plain numbers where short, powers of ten where not (a log axis spans decades). */
  function formatTick(value) {
    if (value === null || value === undefined) return '';
    if (value === 0) return '0';
    const magnitude = Math.abs(value);
    if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(0).replace('e+', 'e');
    return String(Number(value.toPrecision(4)));
  }
  const tickValues = (u, splits) => splits.map(formatTick);
  const shortened = (name, most = 26) => (name.length <= most ? name : `…${name.slice(name.length - most + 1)}`);
  /**
   * An asinh axis keeps zero and the decades (and 2 and 5 between them when it spans two decades or
   * fewer): uPlot's own splits add one below zero, and every 2…9 between.
   */
  const decades = (u, splits, axisIdx) => {
    const scale = u.scales[u.axes[axisIdx].scale];
    const kept = scale.max / scale.asinh <= 100 ? '125' : '1';
    return splits.map((v) => (v === 0 || (v > 0 && kept.includes(v.toExponential()[0])) ? v : null));
  };

  function reportData() {
    return JSON.parse(document.getElementById('report-data').textContent);
  }

  /** Width of a chart: its container's, so that the report reflows with the window. */
  function widthOf(element) {
    return Math.max(320, Math.floor(element.getBoundingClientRect().width));
  }

  /** Draws `draw(u, ctx)` on the chart's canvas, clipped to the plotting area, after uPlot's own drawing. */
  function drawHook(draw) {
    return {
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            ctx.save();
            ctx.beginPath();
            ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
            ctx.clip();
            draw(u, ctx);
            ctx.restore();
          },
        ],
      },
    };
  }

  /**
   * Events at x values: [{ x, color, lane }]. Each is a thin line across the plot and a tick in its kind's
   * lane along the top, so that events of one cycle (a detection and its failover) all stay visible.
   */
  function markerPlugin(markers) {
    return drawHook((u, ctx) => {
      const dpr = devicePixelRatio;
      const laneHeight = 7 * dpr;
      for (const { x, color, lane = 0 } of markers) {
        const left = Math.round(u.valToPos(x, 'x', true));
        if (left < u.bbox.left || left > u.bbox.left + u.bbox.width) continue;
        ctx.globalAlpha = 0.55;
        ctx.fillStyle = color;
        ctx.fillRect(left, u.bbox.top, Math.max(1, dpr), u.bbox.height);
        ctx.globalAlpha = 1;
        ctx.fillRect(left - 2 * dpr, u.bbox.top + lane * laneHeight, 4 * dpr + 1, laneHeight - dpr);
      }
    });
  }

  /** Shaded x ranges under the series: [{ from, to, color }]. */
  function bandPlugin(bands) {
    return {
      hooks: {
        drawClear: [
          (u) => {
            const ctx = u.ctx;
            ctx.save();
            for (const { from, to, color } of bands) {
              const left = Math.max(u.bbox.left, u.valToPos(from, 'x', true));
              const right = Math.min(u.bbox.left + u.bbox.width, u.valToPos(to, 'x', true));
              if (right <= left) continue;
              ctx.fillStyle = color;
              ctx.fillRect(left, u.bbox.top, Math.max(1, right - left), u.bbox.height);
            }
            ctx.restore();
          },
        ],
      },
    };
  }

  /** Horizontal dashed lines at y values of a scale: [{ y, color, scale }]. */
  function levelPlugin(levels) {
    return drawHook((u, ctx) => {
      ctx.lineWidth = Math.max(1, devicePixelRatio);
      ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
      for (const { y, color, scale } of levels) {
        const top = u.valToPos(y, scale || 'y', true);
        ctx.strokeStyle = color;
        ctx.beginPath();
        ctx.moveTo(u.bbox.left, top);
        ctx.lineTo(u.bbox.left + u.bbox.width, top);
        ctx.stroke();
      }
    });
  }

  /**
   * A time series chart. `series`: [{ label, values, color, min? }] — with `min`, the values are the
   * greatest of each bucket and the band down to `min` is shaded (a decimated envelope). `include`: a
   * value the linear y axis reaches whatever the data (the deadline).
   */
  function timeChart(element, { x, series, xLabel, yLabel, log, include, plugins = [], height = 300 }) {
    const data = [x];
    const options = {
      width: widthOf(element),
      height,
      scales: { x: { time: false }, y: log ? { distr: 3 } : { range: (u, min, max) => [Math.min(0, min ?? 0), Math.max(max ?? 0, include ?? 0) * 1.08 || 1] } },
      axes: [{ label: xLabel }, { label: yLabel, size: 78, values: tickValues }],
      series: [{ label: xLabel }],
      bands: [],
      plugins,
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
    };
    for (const s of series) {
      const positive = (v) => (v === null || (log && !(v > 0)) ? null : v);
      data.push(s.values.map(positive));
      options.series.push({ label: s.label, stroke: s.color, width: 1.25, points: { show: false } });
      if (s.min) {
        data.push(s.min.map(positive));
        options.series.push({ label: `${s.label} (least)`, stroke: s.color, width: 0.75, points: { show: false } });
        options.bands.push({ series: [data.length - 2, data.length - 1], fill: `${s.color}33` });
      }
    }
    return new uPlot(options, data, element);
  }

  /**
   * Estimates with their 95% intervals, grouped: one group per category along x, one dot and whisker per
   * series in each. `groups`: labels; `series`: [{ label, values: [{ value, lo, hi } | null] }]. The y axis
   * is asinh-scaled, linear near zero and logarithmic beyond `linear`, so that 0.9 and 1e-4 both show;
   * labelled at the decades unless `everyTick`; `rotateLabels` slants long group names.
   */
  function intervalChart(element, { groups, series, yLabel, linear = 1e-4, height = 300, yMax, everyTick = false, rotateLabels = false, plugins = [] }) {
    const count = series.length;
    const spread = 0.7;
    const offset = (i) => (count === 1 ? 0 : -spread / 2 + (spread * i) / (count - 1));
    // One x value per dot: uPlot needs ascending x, so every series gets every position, null elsewhere.
    const xs = [];
    groups.forEach((_, g) => series.forEach((__, i) => xs.push(g + offset(i))));
    const data = [xs];
    const intervals = [];
    series.forEach((s, i) => {
      const ys = xs.map(() => null);
      const whiskers = [];
      groups.forEach((_, g) => {
        const point = s.values[g];
        if (!point) return;
        const at = g * count + i;
        ys[at] = point.value;
        whiskers.push({ x: xs[at], lo: point.lo, hi: point.hi });
      });
      data.push(ys);
      intervals.push({ color: s.color || PALETTE[i % PALETTE.length], whiskers });
    });
    const highest = yMax ?? Math.max(1e-9, ...intervals.flatMap((s) => s.whiskers.map((w) => w.hi)));
    const options = {
      width: widthOf(element),
      height,
      scales: {
        x: { time: false, range: [-0.5, groups.length - 0.5] },
        y: { distr: 4, asinh: linear, auto: false, range: () => [0, highest] },
      },
      axes: [
        {
          splits: () => groups.map((_, g) => g),
          values: (u, splits) => splits.map((g) => (rotateLabels ? shortened(groups[g] ?? '') : groups[g] ?? '')),
          grid: { show: false },
          gap: 6,
          // Long names (functions) slanted and shortened from the left (their end names them best), so
          // that neighbours do not overwrite each other; the table beside the chart has them whole.
          ...(rotateLabels ? { rotate: 30, size: 130 } : {}),
        },
        { label: yLabel, size: 78, values: tickValues, ...(everyTick ? {} : { filter: decades }) },
      ],
      series: [
        { label: 'group', value: (u, v) => (v === null || v === undefined ? '' : groups[Math.round(v)] ?? '') },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: intervals[i].color,
          fill: intervals[i].color,
          paths: () => null,
          points: { show: true, size: 7, fill: intervals[i].color },
        })),
      ],
      plugins: [
        ...plugins,
        drawHook((u, ctx) => {
          ctx.lineWidth = 1.5 * devicePixelRatio;
          const cap = 4 * devicePixelRatio;
          for (const { color, whiskers } of intervals) {
            ctx.strokeStyle = color;
            for (const { x, lo, hi } of whiskers) {
              const left = u.valToPos(x, 'x', true);
              const top = u.valToPos(hi, 'y', true);
              const bottom = u.valToPos(lo, 'y', true);
              ctx.beginPath();
              ctx.moveTo(left, bottom);
              ctx.lineTo(left, top);
              ctx.moveTo(left - cap, top);
              ctx.lineTo(left + cap, top);
              ctx.moveTo(left - cap, bottom);
              ctx.lineTo(left + cap, bottom);
              ctx.stroke();
            }
          }
        }),
      ],
      cursor: { drag: { x: false, y: false } },
      // The page's own legend names the series; uPlot's would only repeat them.
      legend: { show: false },
    };
    return new uPlot(options, data, element);
  }

  /** Counts over integer values (a histogram), one stepped line per series: [{ label, counts }], y asinh-scaled (linear below 1). */
  function distributionChart(element, { series, colors = PALETTE, xLabel, yLabel, height = 260 }) {
    const length = Math.max(1, ...series.map((s) => s.counts.length));
    const xs = Array.from({ length: length + 1 }, (_, i) => i);
    const data = [xs, ...series.map((s) => xs.map((x) => (x < s.counts.length ? s.counts[x] : 0)))];
    const highest = Math.max(1, ...data.slice(1).flat()) * 1.1;
    const options = {
      width: widthOf(element),
      height,
      scales: { x: { time: false }, y: { distr: 4, asinh: 1, auto: false, range: () => [0, highest] } },
      axes: [{ label: xLabel }, { label: yLabel, size: 78, values: tickValues, filter: decades }],
      series: [
        { label: xLabel },
        ...series.map((s, i) => ({ label: s.label, stroke: colors[i % colors.length], width: 1.5, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } })),
      ],
    };
    return new uPlot(options, data, element);
  }

  /** Charts drawn so far, with how to redraw them at a new width. */
  const charts = [];
  function track(element, plot) {
    charts.push({ element, plot });
    element.dataset.drawn = 'true';
    return plot;
  }
  window.addEventListener('resize', () => {
    for (const { element, plot } of charts) plot.setSize({ width: widthOf(element), height: plot.height });
  });

  return { PALETTE, reportData, timeChart, intervalChart, distributionChart, markerPlugin, bandPlugin, levelPlugin, track };
})();
