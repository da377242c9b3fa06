// Intelligence: daily briefing, ask box, health scores, anomalies and the
// energy forecast with its interval. Each part reports on its own when the
// deployment does not offer it yet.

import { api } from '../api.js';
import {
  h, replace, pageHeader, section, stat, table, link, badge, loading, failure, field, select, errorNotice,
  kWh, pct, fmtNum, fmtTime, fmtMoney, shortId,
} from '../ui.js';
import { forecastChart } from '../chart.js';
import { hourRange } from './overview.js';

const signed = (v, unit) => (v === null || v === undefined ? '—' : `${v > 0 ? '+' : ''}${fmtNum(v, unit, unit === '%' ? 1 : 0)}`);

export function render(main) {
  main.append(pageHeader('Intelligence'));
  const briefingBox = h('div', { id: 'briefing' }, loading());
  const askBox = h('div', { id: 'ask' });
  const healthBox = h('div', { id: 'health' }, loading());
  const anomaliesBox = h('div', { id: 'anomalies' }, loading());
  const forecastBox = h('div', { id: 'forecast' }, loading());
  main.append(
    section('Daily briefing', briefingBox),
    section('Ask about your fleet', askBox),
    section('Device health', healthBox),
    section('Anomalies, last 24 hours', anomaliesBox),
    section('Energy forecast', forecastBox));

  const sites = api('/v1/sites', { query: { size: 100 } }).then((d) => d.items).catch(() => []);
  const siteName = async (id) => ((await sites).find((s) => s.site_id === id) || {}).name || shortId(id);
  let chart = null;
  let gone = false;

  async function briefing() {
    let b;
    try {
      b = await api('/v1/intelligence/daily-briefing');
    } catch (err) {
      replace(briefingBox, failure('The daily briefing', err));
      return;
    }
    const k = b.kpis || {};
    const prev = (b.compared_to && b.compared_to.previous_day) || {};
    replace(briefingBox,
      h('p', { class: 'muted', text: `${b.date}${b.operator_id ? ` · ${b.operator_id}` : ''}` }),
      h('p', { class: 'headline', text: b.headline }),
      h('p', { text: b.summary }),
      h('div', { class: 'stats' },
        stat('Energy', kWh(k.energy_kwh), prev.energy_kwh_change_pct !== undefined ? `${signed(prev.energy_kwh_change_pct, '%')} on the day before` : null),
        stat('Discharged', kWh(k.discharge_kwh)),
        stat('Sessions', String(k.sessions ?? '—'), prev.sessions_change !== undefined ? `${signed(prev.sessions_change)} on the day before` : null),
        stat('Revenue', (k.revenue || []).map((r) => fmtMoney(r.amount, r.currency)).join(' + ') || '—'),
        stat('Uptime', pct(k.uptime_pct, 1)),
        stat('Faults', String(k.faults ?? '—')),
        k.commands && stat('Commands', `${k.commands.completed} of ${k.commands.sent} completed`, `${k.commands.failed} failed`)),
      b.forecast_next_day && h('p', { text: `Tomorrow: about ${kWh(b.forecast_next_day.energy_kwh)} (80 % between ${kWh(b.forecast_next_day.lower)} and ${kWh(b.forecast_next_day.upper)}).` }),
      (b.actions || []).length > 0 && h('div', {}, h('h3', { text: 'Suggested actions' }), h('ul', {}, b.actions.map((a) => h('li', { text: a })))),
      (b.least_healthy || []).length > 0 && h('div', {}, h('h3', { text: 'Least healthy devices' }),
        h('ul', {}, b.least_healthy.map((d) => h('li', {}, link(`#/devices/${d.device_id}`, d.sn), ` — score ${d.score}`)))));
  }

  function drawAsk() {
    const question = h('input', { name: 'question', required: true, maxlength: '500', placeholder: 'e.g. How much energy did we deliver yesterday?' });
    const answer = h('div', { 'aria-live': 'polite' });
    const button = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Ask' });
    const form = h('form', { class: 'toolbar ask' }, field('Question', question), h('div', { class: 'field field-button' }, button));
    const ask = async (text) => {
      question.value = text;
      button.disabled = true;
      replace(answer, loading('Thinking…'));
      try {
        const a = await api('/v1/intelligence/ask', { method: 'POST', body: { question: text } });
        replace(answer, h('div', { class: 'result' },
          h('p', { class: 'answer', text: a.answer }),
          h('p', { class: 'muted small', text: `Intent: ${a.intent}` }),
          (a.sources || []).length > 0 && h('p', { class: 'muted small' }, 'Sources: ', a.sources.map((s, i) => [i ? ', ' : '', h('code', { text: typeof s === 'string' ? s : JSON.stringify(s) })])),
          (a.follow_ups || []).length > 0 && h('div', { class: 'row-actions' }, a.follow_ups.map((f) => h('button', { type: 'button', class: 'btn btn-small', onclick: () => ask(f), text: f })))));
      } catch (err) {
        replace(answer, err.unavailable ? failure('Answers', err) : errorNotice(err));
      } finally {
        button.disabled = false;
      }
    };
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (form.reportValidity()) ask(question.value.trim());
    });
    replace(askBox, form, answer);
  }

  async function health() {
    let data;
    try {
      data = await api('/v1/intelligence/health-scores', { query: { size: 20 } });
    } catch (err) {
      replace(healthBox, failure('Health scores', err));
      return;
    }
    replace(healthBox, table('Device health, worst first', [
      { label: 'Device', value: (d) => link(`#/devices/${d.device_id}`, d.sn) },
      { label: 'Model', value: (d) => d.model },
      { label: 'Score', value: (d) => String(d.score), class: 'num' },
      { label: 'Grade', value: (d) => h('span', { class: `badge badge-grade-${d.grade}`, text: d.grade }) },
      { label: 'Uptime', value: (d) => (d.components && d.components.uptime && d.components.uptime.value != null ? pct(d.components.uptime.value * 100, 1) : '—'), class: 'num' },
      { label: 'Why', value: (d) => (d.reasons || []).join(' ') || '—' },
    ], data.items, 'No devices scored yet.'));
  }

  async function anomalies() {
    let data;
    try {
      data = await api('/v1/intelligence/anomalies', { query: { size: 20 } });
    } catch (err) {
      replace(anomaliesBox, failure('Anomaly detection', err));
      return;
    }
    replace(anomaliesBox, table('Anomalies, newest first', [
      { label: 'Detected', value: (a) => fmtTime(a.detected_at) },
      { label: 'Severity', value: (a) => badge(a.severity) },
      { label: 'Kind', value: (a) => a.kind.replace(/_/g, ' ') },
      { label: 'Device', value: (a) => (a.device_id ? link(`#/devices/${a.device_id}`, shortId(a.device_id)) : '—') },
      { label: 'Observed / expected', value: (a) => `${fmtNum(a.observed, '', 2)} / ${fmtNum(a.expected, '', 2)}` },
      { label: 'Explanation', value: (a) => a.explanation },
    ], data.items, 'No anomalies in the last 24 hours.'));
  }

  async function forecast() {
    const list = await sites;
    if (!list.length) {
      replace(forecastBox, h('p', { class: 'muted', text: 'No sites yet.' }));
      return;
    }
    const siteSel = select('site_id', list.map((s) => [s.site_id, s.name]));
    const horizon = select('horizon_hours', [[24, 'Next 24 hours'], [48, 'Next 48 hours'], [168, 'Next 7 days']]);
    const holder = h('div', { id: 'forecast-chart' });
    const about = h('div', {});
    replace(forecastBox, h('form', { class: 'toolbar' }, field('Site', siteSel), field('Horizon', horizon)), holder, about);
    const draw = async () => {
      if (chart) chart.destroy();
      chart = null;
      replace(holder, loading());
      replace(about);
      try {
        const [f, actual] = await Promise.all([
          api('/v1/intelligence/forecasts/energy', { query: { site_id: siteSel.value, horizon_hours: horizon.value } }),
          api('/v1/aggregated/energy', { query: { granularity: 'hour', site_id: siteSel.value, ...hourRange(48) } }).then((e) => e.series).catch(() => []),
        ]);
        if (gone) return;
        holder.replaceChildren();
        if (f.status !== 'ok') {
          replace(holder, h('div', { class: 'notice notice-info' }, h('p', { text: `Not enough data for a forecast of ${await siteName(siteSel.value)} yet.` }), f.reason && h('p', { class: 'muted', text: f.reason })));
          return;
        }
        chart = forecastChart(holder, f, actual, f.unit || 'kWh');
        const b = f.backtest || {};
        replace(about, h('p', { class: 'muted small' },
          `Method: ${f.method}. Trained on ${f.trained_on ? f.trained_on.points : '?'} hours`,
          f.trained_on ? ` (${fmtTime(f.trained_on.from)} to ${fmtTime(f.trained_on.to)})` : '',
          b.mae !== undefined ? `. Back-test over ${b.horizon_hours} h: MAE ${fmtNum(b.mae, 'kWh', 2)} against ${fmtNum(b.baseline_mae, 'kWh', 2)} for the same hour last week (skill ${fmtNum(b.skill, '', 2)}).` : '.'));
      } catch (err) {
        // Without the route the site and horizon pickers have nothing to do.
        replace(err.unavailable ? forecastBox : holder, failure('Energy forecasts', err));
      }
    };
    siteSel.addEventListener('change', draw);
    horizon.addEventListener('change', draw);
    await draw();
  }

  briefing();
  drawAsk();
  health();
  anomalies();
  forecast();
  return () => {
    gone = true;
    if (chart) chart.destroy();
  };
}
