// The silences: the list (expire, edit, recreate), and the form that
// creates or updates one, with a live preview of the alerts its matchers
// would silence (GET api/v2/alerts?filter=..., matched by the server).
import { h, badge, timeEl, labelsEl, table, empty, errorBox, matchersEl, formatMatcher, parseMatcher, apiMatcher, fromAPIMatcher, labelNameRE, fmtDuration } from './dom.js';
import { get, post, del } from './api.js';

function expireButton(s, ctx) {
  const btn = h('button', { type: 'button', class: 'danger small', 'data-action': 'expire' }, 'Expire');
  btn.addEventListener('click', async () => {
    // Two clicks, not a dialog: expiring cannot be undone.
    if (!btn.classList.contains('confirming')) {
      btn.classList.add('confirming');
      btn.textContent = 'Expire now?';
      return;
    }
    btn.disabled = true;
    try {
      await del('api/v2/silence/' + encodeURIComponent(s.id));
      ctx.reload();
    } catch (e) {
      btn.replaceWith(errorBox(e));
    }
  });
  return btn;
}

function silenceRows(list, ctx, affected, highlight) {
  return list.map((s) => h('tr', { 'data-silence-id': s.id, class: s.id === highlight ? 'highlight' : '' },
    h('td', {}, matchersEl(s.matchers || [])),
    h('td', {}, badge(s.status.state)),
    h('td', {}, timeEl(s.startsAt)),
    h('td', {}, timeEl(s.endsAt)),
    h('td', { class: 'num' }, s.status.state === 'active' ? String(affected.get(s.id) || 0) : ''),
    h('td', {}, s.createdBy),
    h('td', { class: 'comment' }, s.comment),
    h('td', { class: 'mono muted', title: s.id }, s.id.slice(0, 8)),
    h('td', { class: 'actions' },
      s.status.state === 'expired'
        ? h('a', { href: '#/silences/new?' + new URLSearchParams({ from: s.id }).toString() }, 'Recreate')
        : [h('a', { href: '#/silences/new?' + new URLSearchParams({ id: s.id }).toString() }, 'Edit'), ' ', expireButton(s, ctx)])));
}

export async function renderSilences(params, ctx) {
  const [sils, alerts] = await Promise.all([get('api/v2/silences'), get('api/v2/alerts?silenced=true&inhibited=true&active=true')]);
  const affected = new Map();
  for (const a of alerts || []) {
    for (const id of (a.status && a.status.silencedBy) || []) affected.set(id, (affected.get(id) || 0) + 1);
  }
  const highlight = params.get('id') || params.get('created');
  const headers = ['Matchers', 'State', 'Starts', 'Ends', 'Alerts', 'Created by', 'Comment', 'ID', ''];
  const section = (state, title) => {
    const list = (sils || []).filter((s) => s.status.state === state);
    const body = list.length === 0 ? empty(`No ${state} silences.`) : table(headers, silenceRows(list, ctx, affected, highlight), { class: 'silences', 'data-state': state });
    if (state === 'expired') {
      return h('section', { class: 'card' }, h('details', {}, h('summary', {}, h('h2', { class: 'inline' }, `${title} (${list.length})`)), body));
    }
    return h('section', { class: 'card' }, h('h2', {}, `${title} (${list.length})`), body);
  };
  const created = params.get('created');
  return h('div', {},
    h('div', { class: 'page-head' }, h('h1', {}, 'Silences'), h('a', { class: 'button', href: '#/silences/new', id: 'new-silence' }, 'New silence')),
    created ? h('p', { class: 'notice', role: 'status' }, `Silence ${created} saved.`) : null,
    section('active', 'Active'),
    section('pending', 'Pending'),
    section('expired', 'Expired'));
}

// parseDuration reads a Prometheus duration (1w2d3h4m5s, 1h30m, 90s).
function parseDuration(s) {
  const m = /^\s*(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?\s*$/.exec(s);
  if (!m || m.slice(1).every((x) => x === undefined)) return null;
  const [w, d, hh, mm, ss, ms] = m.slice(1).map((x) => Number(x || 0));
  return ((((w * 7 + d) * 24 + hh) * 60 + mm) * 60 + ss) * 1000 + ms;
}

// localInput formats a time for a datetime-local input.
function localInput(t) {
  const d = new Date(t);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// validRegex reports whether a matcher's regular expression compiles (in
// JavaScript, close enough to Go's RE2 for a preview; the server has the
// last word).
function validRegex(v) {
  try {
    RegExp(`^(?:${v})$`);
    return true;
  } catch {
    return false;
  }
}

function matcherRow(m, onChange) {
  const row = h('div', { class: 'matcher-row' });
  const name = h('input', { type: 'text', class: 'm-name', placeholder: 'label', value: m.name || '', 'aria-label': 'label name', autocomplete: 'off', spellcheck: 'false' });
  const op = h('select', { class: 'm-op', 'aria-label': 'operator' }, ['=', '!=', '=~', '!~'].map((o) => h('option', { value: o, selected: o === (m.op || '=') }, o)));
  const value = h('input', { type: 'text', class: 'm-value', placeholder: 'value', value: m.value || '', 'aria-label': 'label value', autocomplete: 'off', spellcheck: 'false' });
  const remove = h('button', { type: 'button', class: 'small', title: 'Remove this matcher', 'aria-label': 'remove matcher' }, '×');
  remove.addEventListener('click', () => {
    row.remove();
    onChange();
  });
  for (const el of [name, op, value]) el.addEventListener('input', onChange);
  row.append(name, op, value, remove);
  return row;
}

function readMatchers(box) {
  return [...box.querySelectorAll('.matcher-row')].map((row) => ({
    name: row.querySelector('.m-name').value.trim(),
    op: row.querySelector('.m-op').value,
    value: row.querySelector('.m-value').value,
  })).filter((m) => m.name !== '' || m.value !== '');
}

// matcherProblem says what is wrong with a matcher, or null.
function matcherProblem(m) {
  if (!labelNameRE.test(m.name)) return `"${m.name}" is not a label name`;
  if ((m.op === '=~' || m.op === '!~') && !validRegex(m.value)) return `"${m.value}" is not a regular expression`;
  return null;
}

export async function renderSilenceForm(params) {
  const id = params.get('id');
  const from = id || params.get('from');
  let initial = { matchers: params.getAll('m').map(parseMatcher).filter(Boolean), createdBy: '', comment: '' };
  if (from) {
    const s = await get('api/v2/silence/' + encodeURIComponent(from));
    initial = { matchers: (s.matchers || []).map(fromAPIMatcher), createdBy: s.createdBy, comment: s.comment, startsAt: s.startsAt, endsAt: s.endsAt, state: s.status.state };
  }
  if (initial.matchers.length === 0) initial.matchers = [{ name: '', op: '=', value: '' }];
  if (!initial.createdBy) initial.createdBy = localStorage.getItem('alertd.createdBy') || '';

  const matchers = h('div', { class: 'matchers', id: 'matchers' });
  const previewBox = h('div', { id: 'preview', 'aria-live': 'polite' });
  let previewGen = 0;
  let timer = 0;
  const schedulePreview = () => {
    clearTimeout(timer);
    timer = setTimeout(preview, 250);
  };
  for (const m of initial.matchers) matchers.append(matcherRow(m, schedulePreview));
  const addMatcher = h('button', { type: 'button', class: 'small', id: 'add-matcher' }, '+ Add matcher');
  addMatcher.addEventListener('click', () => {
    const row = matcherRow({}, schedulePreview);
    matchers.append(row);
    row.querySelector('.m-name').focus();
  });

  const now = Date.now();
  const keepTimes = id && initial.state !== 'expired';
  const startMs = keepTimes && Date.parse(initial.startsAt) > now ? Date.parse(initial.startsAt) : now;
  const endMs = keepTimes ? Date.parse(initial.endsAt) : now + 2 * 3600 * 1000;
  const initialStart = localInput(startMs);
  const starts = h('input', { type: 'datetime-local', id: 'starts', value: initialStart });
  const duration = h('input', { type: 'text', id: 'duration', value: fmtDuration(Math.max(0, (endMs - startMs) / 1000)), size: 10, spellcheck: 'false' });
  const ends = h('input', { type: 'datetime-local', id: 'ends', value: localInput(endMs) });
  const startTime = () => Date.parse(new Date(starts.value).toISOString());
  duration.addEventListener('input', () => {
    const d = parseDuration(duration.value);
    duration.setCustomValidity(d === null || d <= 0 ? 'a duration such as 2h, 1d or 30m' : '');
    if (d !== null && d > 0 && !Number.isNaN(startTime())) ends.value = localInput(startTime() + d);
  });
  ends.addEventListener('input', () => {
    const d = (new Date(ends.value).getTime() - startTime()) / 1000;
    if (d > 0) {
      duration.value = fmtDuration(d);
      duration.setCustomValidity('');
    }
  });
  starts.addEventListener('input', () => {
    const d = parseDuration(duration.value);
    if (d !== null && !Number.isNaN(startTime())) ends.value = localInput(startTime() + d);
  });
  const createdBy = h('input', { type: 'text', id: 'created-by', value: initial.createdBy, required: true, autocomplete: 'username' });
  const comment = h('textarea', { id: 'comment', rows: 3, required: true }, initial.comment);
  const status = h('div', { id: 'form-status', role: 'status' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'submit-silence' }, id ? 'Update silence' : 'Create silence');

  async function preview() {
    const gen = ++previewGen;
    const ms = readMatchers(matchers);
    if (ms.length === 0) {
      previewBox.replaceChildren(empty('Add a matcher to see the alerts it would silence.'));
      return;
    }
    const problems = ms.map(matcherProblem).filter(Boolean);
    if (problems.length > 0) {
      previewBox.replaceChildren(errorBox(problems.join('; ')));
      return;
    }
    const q = new URLSearchParams();
    for (const m of ms) q.append('filter', formatMatcher(m));
    q.set('silenced', 'true');
    q.set('inhibited', 'true');
    q.set('active', 'true');
    let alerts;
    try {
      alerts = await get('api/v2/alerts?' + q.toString());
    } catch (e) {
      if (gen === previewGen) previewBox.replaceChildren(errorBox(e));
      return;
    }
    if (gen !== previewGen) return;
    const rows = alerts.map((a) => h('tr', { 'data-fingerprint': a.fingerprint },
      h('td', {}, badge(a.status.state)),
      h('td', {}, timeEl(a.startsAt)),
      h('td', {}, labelsEl(a.labels))));
    previewBox.replaceChildren(
      h('p', { class: 'preview-count', 'data-count': String(alerts.length) },
        alerts.length === 1 ? '1 alert would be silenced now.' : `${alerts.length} alerts would be silenced now.`),
      rows.length === 0 ? null : table(['State', 'Started', 'Labels'], rows));
  }

  const form = h('form', { id: 'silence-form', class: 'card', novalidate: true },
    h('fieldset', {},
      h('legend', {}, 'Matchers'),
      h('p', { class: 'muted' }, 'An alert is silenced when every matcher matches its labels. =~ and !~ take regular expressions, anchored at both ends.'),
      matchers, addMatcher),
    h('fieldset', { class: 'times' },
      h('legend', {}, 'When'),
      h('label', {}, 'Starts ', starts),
      h('label', {}, 'Duration ', duration),
      h('label', {}, 'Ends ', ends)),
    h('fieldset', {},
      h('legend', {}, 'Who and why'),
      h('label', { class: 'block' }, 'Created by ', createdBy),
      h('label', { class: 'block' }, 'Comment ', comment)),
    h('div', { class: 'form-actions' }, submit, h('a', { href: '#/silences' }, 'Cancel'), status));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const ms = readMatchers(matchers);
    const problems = ms.map(matcherProblem).filter(Boolean);
    if (ms.length === 0) problems.push('add at least one matcher');
    if (problems.length > 0 || !form.reportValidity()) {
      if (problems.length > 0) status.replaceChildren(errorBox(problems.join('; ')));
      return;
    }
    const start = startTime();
    const end = new Date(ends.value).getTime();
    if (Number.isNaN(start) || Number.isNaN(end) || end <= start) {
      status.replaceChildren(errorBox('The end must be after the start.'));
      return;
    }
    // A start in the past (the form has minutes only) means now; an
    // active silence edited without touching its start keeps it, so that
    // it is updated in place rather than replaced.
    let startsAt = new Date(Math.max(start, Date.now())).toISOString();
    if (id && initial.state === 'active' && starts.value === initialStart) startsAt = initial.startsAt;
    const body = {
      matchers: ms.map(apiMatcher),
      startsAt,
      endsAt: new Date(end).toISOString(),
      createdBy: createdBy.value.trim(),
      comment: comment.value.trim(),
    };
    if (id) body.id = id;
    submit.disabled = true;
    status.replaceChildren(h('span', { class: 'muted' }, 'Saving…'));
    try {
      const res = await post('api/v2/silences', body);
      localStorage.setItem('alertd.createdBy', body.createdBy);
      location.hash = '#/silences?' + new URLSearchParams({ created: res.silenceID }).toString();
    } catch (e) {
      submit.disabled = false;
      status.replaceChildren(errorBox(e));
    }
  });

  preview();
  return h('div', {},
    h('div', { class: 'page-head' }, h('h1', {}, id ? 'Edit silence' : 'New silence'), id ? h('span', { class: 'mono muted' }, id) : null),
    h('div', { class: 'two-col' }, form,
      h('section', { class: 'card' }, h('h2', {}, 'Affected alerts'), previewBox)));
}

