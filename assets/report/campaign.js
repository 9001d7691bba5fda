// Draws a campaign's report (src/reports/html/campaign-report.ts writes the data and the page around it):
// the outcome rates with their 95% intervals per target, the detection-latency distribution and MWTF.
'use strict';

(() => {
  const C = LockstepCharts;
  const data = C.reportData();

  for (const group of data.rates) {
    const element = document.getElementById(`rates-${group.id}`);
    C.track(
      element,
      C.intervalChart(element, {
        groups: data.outcomeLabels,
        series: data.configs.map((config, i) => ({ label: config, color: data.colors[i], values: group.values[i] })),
        yLabel: 'rate',
        yMax: 1,
      }),
    );
  }

  const latency = document.getElementById('latency-chart');
  C.track(
    latency,
    C.distributionChart(latency, {
      series: data.latency.map((entry) => ({ label: entry.config, counts: entry.counts })),
      colors: data.colors,
      xLabel: 'cycles from injection to detection',
      yLabel: 'experiments',
    }),
  );

  if (data.functions) {
    const element = document.getElementById('functions-chart');
    C.track(
      element,
      C.intervalChart(element, {
        groups: data.functions.names,
        series: [{ label: 'silent rate', color: '#d62728', values: data.functions.values }],
        yLabel: 'silent rate',
        yMax: Math.max(...data.functions.values.map((v) => v.hi)) * 1.1 || 1,
        rotateLabels: true,
        height: 300,
      }),
    );
  }

  if (data.mwtf) {
    const element = document.getElementById('mwtf-chart');
    C.track(
      element,
      C.intervalChart(element, {
        groups: data.mwtf.variants,
        series: [{ label: 'MWTF vs single', color: '#1f77b4', values: data.mwtf.values }],
        yLabel: 'MWTF',
        linear: 1,
        everyTick: true,
        yMax: data.mwtf.yMax,
        plugins: [C.levelPlugin([{ y: 1, color: '#444' }])],
        height: 220,
      }),
    );
  }
})();
