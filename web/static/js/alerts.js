// The alerts: those alertd's rules evaluate (Prometheus's /api/v1/alerts:
// pending and firing, active since), and every alert the Alertmanager half
// holds, from the rules or posted by other servers, with its silences,
// inhibitions and receivers.
import { h, badge, timeEl, fmtValue, labelsEl, annotationsEl, table, empty, silenceLink } from './dom.js';
import { v1, get } from './api.js';

function byState(a, b) {
  const order = { firing: 0, pending: 1 };
  return (order[a.state] ?? 2) - (order[b.state] ?? 2) || Date.parse(a.activeAt) - Date.parse(b.activeAt);
}

function amState(a) {
  const st = a.status || {};
  const out = [badge(st.state || 'unknown')];
  for (const id of st.silencedBy || []) {
    out.push(' ', h('a', { href: '#/silences', title: id, class: 'silenced-by' }, 'silenced'));
  }
  if ((st.inhibitedBy || []).length > 0) out.push(' ', h('span', { class: 'muted', title: st.inhibitedBy.join(', ') }, 'inhibited'));
  if ((st.mutedBy || []).length > 0) out.push(' ', h('span', { class: 'muted', title: st.mutedBy.join(', ') }, 'muted by time interval'));
  return out;
}

export async function renderAlerts() {
  const [ruleData, amAlerts] = await Promise.all([v1('api/v1/alerts'), get('api/v2/alerts')]);
  const ruleAlerts = (ruleData.alerts || []).slice().sort(byState);
  const firing = ruleAlerts.filter((a) => a.state === 'firing').length;

  const ruleRows = ruleAlerts.map((a) => h('tr', { class: `row-${a.state}` },
    h('td', {}, badge(a.state)),
    h('td', {}, timeEl(a.activeAt)),
    h('td', { class: 'num', title: a.value }, fmtValue(a.value)),
    h('td', {}, labelsEl(a.labels)),
    h('td', {}, annotationsEl(a.annotations)),
    h('td', {}, h('a', { href: silenceLink(a.labels) }, 'Silence'))));

  const amRows = (amAlerts || []).map((a) => h('tr', { 'data-fingerprint': a.fingerprint },
    h('td', {}, amState(a)),
    h('td', {}, timeEl(a.startsAt)),
    h('td', {}, (a.receivers || []).map((r) => r.name).join(', ')),
    h('td', {}, labelsEl(a.labels)),
    h('td', {}, annotationsEl(a.annotations)),
    h('td', {}, h('a', { href: silenceLink(a.labels) }, 'Silence'))));

  return h('div', {},
    h('div', { class: 'page-head' }, h('h1', {}, 'Alerts'),
      h('span', { class: 'muted' }, `${firing} firing, ${ruleAlerts.length - firing} pending from alertd’s rules; ${amRows.length} in the Alertmanager`)),
    h('section', { class: 'card', id: 'rule-alerts' },
      h('h2', {}, 'From alertd’s rules'),
      ruleRows.length === 0 ? empty('No pending or firing alerts.') :
        table(['State', 'Active since', 'Value', 'Labels', 'Annotations', ''], ruleRows)),
    h('section', { class: 'card', id: 'am-alerts' },
      h('h2', {}, 'In the Alertmanager (rules and posted alerts)'),
      amRows.length === 0 ? empty('No alerts.') :
        table(['State', 'Started', 'Receivers', 'Labels', 'Annotations', ''], amRows)));
}
