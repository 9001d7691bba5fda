// Draws a flight's report (src/reports/html/flight-report.ts writes the data and the page around it):
// the pointing error with events marked and controller states shaded, the modelled cycle time against
// the deadline, and one small chart per extra named value.
'use strict';

(() => {
  const C = LockstepCharts;
  const data = C.reportData();
  const secondsPerPoint = data.cyclesPerPoint * data.periodS;
  const x = data.pointing.max.map((_, i) => i * secondsPerPoint);
  const kinds = Object.keys(data.eventColors);
  const markers = data.events.map(([cycle, kind]) => ({ kind, x: cycle * data.periodS, color: data.eventColors[kind], lane: kinds.indexOf(kind) }));
  // An upset costs no time of its own: the timing chart marks what it led to.
  const consequences = markers.filter((m) => m.kind !== 'upset');
  const bands = [];
  data.states.forEach(([cycle, state], i) => {
    const shade = data.stateShades[state];
    const next = i + 1 < data.states.length ? data.states[i + 1][0] : data.cycles;
    if (shade) bands.push({ from: cycle * data.periodS, to: next * data.periodS, color: shade });
  });

  const pointing = document.getElementById('pointing-chart');
  C.track(
    pointing,
    C.timeChart(pointing, {
      x,
      xLabel: 'time, s',
      yLabel: 'pointing error, °',
      log: true,
      series: [{ label: 'pointing error, °', values: data.pointing.max, min: data.pointing.min, color: '#1f77b4' }],
      plugins: [C.bandPlugin(bands), C.markerPlugin(markers), C.levelPlugin([{ y: data.requirementDeg, color: '#444' }])],
    }),
  );

  const timing = document.getElementById('timing-chart');
  C.track(
    timing,
    C.timeChart(timing, {
      x,
      xLabel: 'time, s',
      yLabel: 'modelled cycle time, ms',
      include: data.deadlineMs,
      series: [{ label: 'modelled cycle time, ms', values: data.modelled.max, min: data.modelled.min, color: '#2ca02c' }],
      plugins: [C.bandPlugin(bands), C.markerPlugin(consequences), C.levelPlugin([{ y: data.deadlineMs, color: data.deadlineColor }])],
      height: 220,
    }),
  );

  data.extra.forEach((series, i) => {
    const element = document.getElementById(`extra-chart-${i}`);
    C.track(
      element,
      C.timeChart(element, {
        x,
        xLabel: 'time, s',
        yLabel: series.name,
        series: [{ label: series.name, values: series.max, min: series.min, color: C.PALETTE[i % C.PALETTE.length] }],
        plugins: [C.markerPlugin(markers.filter((m) => m.kind === 'failover'))],
        height: 180,
      }),
    );
  });
})();
