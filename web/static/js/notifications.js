// The notification history: what alertd sent, when, to which receiver
// and integration, for which group, and whether it succeeded.
import { h, badge, timeEl, fmtDuration, labelsEl, table, empty } from './dom.js';
import { v1, get } from './api.js';

export async function renderNotifications(params) {
  const receiver = params.get('receiver') || '';
  const failedOnly = params.get('failed') === '1';
  const q = new URLSearchParams();
  if (receiver) q.set('receiver', receiver);
  const [data, receivers] = await Promise.all([v1('api/v1/notifications' + (receiver ? '?' + q.toString() : '')), get('api/v2/receivers')]);
  let list = data.notifications || [];
  const failed = list.filter((n) => !n.success).length;
  if (failedOnly) list = list.filter((n) => !n.success);

  // The filters live in the address, so that a refresh and a shared link
  // keep them.
  const go = (rcv, onlyFailed) => {
    const p = new URLSearchParams();
    if (rcv) p.set('receiver', rcv);
    if (onlyFailed) p.set('failed', '1');
    const s = p.toString();
    location.hash = '#/notifications' + (s ? '?' + s : '');
  };
  const select = h('select', { id: 'receiver-filter', 'aria-label': 'receiver' },
    h('option', { value: '' }, 'all receivers'),
    (receivers || []).map((r) => h('option', { value: r.name, selected: r.name === receiver }, r.name)));
  select.addEventListener('change', () => go(select.value, failedOnly));
  const failedBox = h('input', { type: 'checkbox', id: 'failed-filter', checked: failedOnly });
  failedBox.addEventListener('change', () => go(receiver, failedBox.checked));

  const rows = list.map((n) => h('tr', { class: n.success ? '' : 'row-err', 'data-id': String(n.id) },
    h('td', {}, timeEl(n.time)),
    h('td', {}, n.receiver),
    h('td', { class: 'mono' }, `${n.integration}[${n.index}]`),
    h('td', {}, labelsEl(n.groupLabels)),
    h('td', { class: 'num' }, n.firing > 0 ? h('span', { class: 'count-firing' }, `${n.firing} firing`) : null,
      n.firing > 0 && n.resolved > 0 ? ', ' : null,
      n.resolved > 0 ? h('span', { class: 'count-resolved' }, `${n.resolved} resolved`) : null),
    h('td', {}, badge(n.success ? 'sent' : 'failed')),
    h('td', { class: 'num' }, fmtDuration(n.duration)),
    h('td', { class: 'error-text' }, n.error || '')));

  return h('div', {},
    h('div', { class: 'page-head' }, h('h1', {}, 'Notifications'),
      h('span', { class: 'muted' }, `the last ${data.notifications.length} sent${receiver ? ' to ' + receiver : ''}, ${failed} failed`)),
    h('div', { class: 'filters' }, h('label', {}, 'Receiver ', select), h('label', {}, failedBox, ' failed only')),
    h('section', { class: 'card' },
      rows.length === 0 ? empty(failedOnly ? 'No failed notifications.' : 'No notifications sent yet.') :
        table(['Time', 'Receiver', 'Integration', 'Group', 'Alerts', 'Result', 'Took', 'Error'], rows, { id: 'notifications' })));
}
