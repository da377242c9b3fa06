// Charts drawn with the vendored uPlot (global `uPlot`, loaded by index.html).
// Each chart sizes itself to its container and exposes what it drew as data
// attributes (data-points, data-nonzero) so tests and tools can check it.

import { kW, kWh, fmtNum } from './ui.js';

const HEIGHT = 260;
const BLUE = '#0b5cad';
const PURPLE = '#8250df';
const ORANGE = '#bc4c00';
const GREY = '#57606a';
const RED = '#cf222e';

const toSeconds = (iso) => Date.parse(iso) / 1000;

// Axis and legend times in the browser's locale and zone (uPlot's own
// format is US English).
const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short' });
const hourFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const xSeries = { label: 'Hour', value: (u, v) => (v === null || v === undefined ? '—' : fullFmt.format(new Date(v * 1000))) };
const xAxis = {
  stroke: GREY,
  space: 80,
  values: (u, splits) => splits.map((s) => {
    const d = new Date(s * 1000);
    return d.getHours() === 0 && d.getMinutes() === 0 ? dayFmt.format(d) : hourFmt.format(d);
  }),
};

function mount(container, opts, data, describe) {
  container.classList.add('chart');
  container.setAttribute('role', 'img');
  const width = () => Math.max(280, container.clientWidth);
  const plot = new uPlot({ ...opts, width: width(), height: HEIGHT }, data, container);
  const observer = new ResizeObserver(() => plot.setSize({ width: width(), height: HEIGHT }));
  observer.observe(container);
  const mark = (d) => {
    const values = d.slice(1).flat().filter((v) => v !== null && v !== undefined);
    container.dataset.points = String(d[0].length);
    container.dataset.nonzero = String(values.filter((v) => v !== 0).length);
    container.setAttribute('aria-label', describe(d));
  };
  mark(data);
  return {
    update(d) {
      plot.setData(d);
      mark(d);
    },
    destroy() {
      observer.disconnect();
      plot.destroy();
    },
  };
}

export function energyChartData(series) {
  return [
    series.map((p) => toSeconds(p.timestamp)),
    series.map((p) => p.charge_energy),
    series.map((p) => p.discharge_energy),
  ];
}

// Hourly charged and discharged kWh as bars.
export function energyChart(container, series, title = 'Energy') {
  const bars = uPlot.paths.bars({ size: [0.8, 14] });
  const opts = {
    // Half a bucket of room each side, so the first and last bars show whole.
    scales: { x: { time: true, range: (u, min, max) => [min - 1800, max + 1800] } },
    series: [
      xSeries,
      { label: 'Charged', stroke: BLUE, fill: 'rgba(11, 92, 173, 0.35)', paths: bars, points: { show: false }, value: (u, v) => kWh(v) },
      { label: 'Discharged', stroke: PURPLE, fill: 'rgba(130, 80, 223, 0.35)', paths: bars, points: { show: false }, value: (u, v) => kWh(v) },
    ],
    axes: [xAxis, { stroke: GREY, label: 'kWh', size: 56 }],
    legend: { live: true },
  };
  const describe = (d) => {
    const sum = (a) => a.reduce((s, v) => s + (v || 0), 0);
    return `${title}: ${kWh(sum(d[1]))} charged and ${kWh(sum(d[2]))} discharged over ${d[0].length} hours.`;
  };
  return mount(container, opts, energyChartData(series), describe);
}

// A forecast line with its interval band, after the recent actual values.
export function forecastChart(container, forecast, actual = [], unit = 'kWh') {
  const lastActual = actual.length ? toSeconds(actual[actual.length - 1].timestamp) : -Infinity;
  const past = actual.map((p) => [toSeconds(p.timestamp), p.charge_energy]);
  const ahead = forecast.series.filter((p) => toSeconds(p.timestamp) > lastActual);
  const xs = [...past.map((p) => p[0]), ...ahead.map((p) => toSeconds(p.timestamp))];
  const pad = (n) => Array(n).fill(null);
  const data = [
    xs,
    [...past.map((p) => p[1]), ...pad(ahead.length)],
    [...pad(past.length), ...ahead.map((p) => p.upper)],
    [...pad(past.length), ...ahead.map((p) => p.value)],
    [...pad(past.length), ...ahead.map((p) => p.lower)],
  ];
  const fmt = (u, v) => fmtNum(v, unit, 2);
  const opts = {
    scales: { x: { time: true } },
    series: [
      xSeries,
      { label: 'Actual', stroke: GREY, width: 1.5, points: { show: false }, value: fmt },
      { label: 'Upper (80 %)', stroke: 'rgba(188, 76, 0, 0.5)', dash: [4, 4], points: { show: false }, value: fmt },
      { label: 'Forecast', stroke: ORANGE, width: 2, points: { show: false }, value: fmt },
      { label: 'Lower (80 %)', stroke: 'rgba(188, 76, 0, 0.5)', dash: [4, 4], points: { show: false }, value: fmt },
    ],
    bands: [{ series: [2, 4], fill: 'rgba(188, 76, 0, 0.15)' }],
    axes: [xAxis, { stroke: GREY, label: unit, size: 56 }],
  };
  const describe = (d) => `Forecast for the next ${ahead.length} hours with an 80 % interval, after ${past.length} hours of actual values.`;
  return mount(container, opts, data, describe);
}

// A site's average power in each hour (net of discharging: kWh over the
// hour's length, so the current hour over its part gone by) against its
// capacity and, while a reserve is kept, what is shared out.
export function powerChartData(series, capacity, shared, now = Date.now()) {
  const xs = series.map((p) => toSeconds(p.timestamp));
  const average = series.map((p, i) => {
    const start = xs[i] * 1000;
    // At least 5 minutes, so a first sample does not read as a spike.
    const hours = Math.min(1, Math.max(5 / 60, (now - start) / 3600000));
    return start > now ? null : (p.charge_energy - p.discharge_energy) / hours;
  });
  const data = [xs, average, series.map(() => capacity)];
  if (shared !== null && shared !== undefined) data.push(series.map(() => shared));
  return data;
}

export function powerChart(container, series, capacity, shared, title = 'Site power') {
  const fmt = (u, v) => kW(v);
  const describe = (d) => {
    const peak = Math.max(0, ...d[1].filter((v) => v !== null));
    return `${title}: the highest hourly average over the last ${d[0].length} hours was ${kW(peak)}, against a capacity of ${kW(d[2][0])}.`;
  };
  const draw = (data) => {
    const lines = [
      xSeries,
      { label: 'Average power', stroke: BLUE, fill: 'rgba(11, 92, 173, 0.35)', paths: uPlot.paths.bars({ size: [0.8, 14] }), points: { show: false }, value: fmt },
      { label: 'Capacity', stroke: RED, width: 2, points: { show: false }, value: fmt },
      { label: 'Shared out (capacity less reserve)', stroke: ORANGE, width: 1.5, dash: [6, 4], points: { show: false }, value: fmt },
    ];
    return mount(container, {
      scales: {
        x: { time: true, range: (u, min, max) => [min - 1800, max + 1800] },
        y: { range: (u, min, max) => [0, Math.max(max, 1) * 1.1] },
      },
      series: lines.slice(0, data.length),
      axes: [xAxis, { stroke: GREY, label: 'kW', size: 56 }],
      legend: { live: true },
    }, data, describe);
  };
  let data = powerChartData(series, capacity, shared);
  let chart = draw(data);
  container.dataset.capacity = String(capacity);
  return {
    update(s, cap, sh) {
      const next = powerChartData(s, cap, sh);
      // The reserve's line comes and goes with the reserve: a new plot.
      if (next.length !== data.length) {
        chart.destroy();
        chart = draw(next);
      } else {
        chart.update(next);
      }
      data = next;
      container.dataset.capacity = String(cap);
    },
    destroy: () => chart.destroy(),
  };
}
