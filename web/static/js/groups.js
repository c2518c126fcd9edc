// The aggregation groups, per receiver.
import { h, badge, timeEl, labelsEl, annotationsEl, table, empty } from './dom.js';
import { get } from './api.js';

function groupCard(g) {
  const rows = (g.alerts || []).map((a) => h('tr', {},
    h('td', {}, badge((a.status && a.status.state) || 'unknown')),
    h('td', {}, timeEl(a.startsAt)),
    h('td', {}, labelsEl(a.labels, g.labels)),
    h('td', {}, annotationsEl(a.annotations))));
  return h('div', { class: 'agroup' },
    h('h3', {}, labelsEl(g.labels), h('span', { class: 'muted' }, ` ${rows.length} alert${rows.length === 1 ? '' : 's'}`)),
    rows.length === 0 ? empty('No alerts.') : table(['State', 'Started', 'Other labels', 'Annotations'], rows));
}

export async function renderGroups() {
  const [groups, receivers] = await Promise.all([get('api/v2/alerts/groups'), get('api/v2/receivers')]);
  const byReceiver = new Map((receivers || []).map((r) => [r.name, []]));
  for (const g of groups || []) {
    const name = g.receiver && g.receiver.name;
    if (!byReceiver.has(name)) byReceiver.set(name, []);
    byReceiver.get(name).push(g);
  }
  const sections = [...byReceiver].map(([name, gs]) => h('section', { class: 'card', 'data-receiver': name },
    h('header', { class: 'card-head' }, h('h2', {}, name), h('span', { class: 'muted' }, `${gs.length} group${gs.length === 1 ? '' : 's'}`)),
    gs.length === 0 ? empty('No alerts routed here.') : gs.map(groupCard)));
  return h('div', {},
    h('div', { class: 'page-head' }, h('h1', {}, 'Alert groups'), h('span', { class: 'muted' }, 'by receiver, as the routing tree groups them')),
    sections.length === 0 ? empty('No receivers configured.') : sections);
}
