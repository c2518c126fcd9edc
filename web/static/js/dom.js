// DOM building and formatting shared by the pages. Every value from the
// APIs (labels, annotations, errors) is inserted as text, never as HTML.

// h creates an element: attrs sets attributes ("class", "on<event>"
// listeners, and DOM properties for non-string values such as value or
// checked); children are nodes or strings, nested arrays flattened, null
// and false skipped.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') {
      el.className = v;
    } else if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (typeof v !== 'string' && k in el) {
      el[k] = v;
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

// safeURL returns u if it is an absolute http(s) URL, else null, so that
// a link never runs script (javascript:) or leaves for odd schemes.
export function safeURL(u) {
  try {
    const p = new URL(u, document.baseURI);
    return p.protocol === 'http:' || p.protocol === 'https:' ? p.href : null;
  } catch {
    return null;
  }
}

// link is an anchor that opens outside the UI, without a referrer.
export function externalLink(url, ...children) {
  return h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, ...children);
}

// isZeroTime reports whether an RFC 3339 time is Go's zero time (never).
function isZeroTime(iso) {
  return !iso || iso.startsWith('0001-01-01');
}

// fmtDuration formats seconds as Prometheus does: 1d2h3m4s, or 12.3ms
// below a second.
export function fmtDuration(sec) {
  if (!Number.isFinite(sec)) return '';
  if (sec < 0) return '-' + fmtDuration(-sec);
  if (sec === 0) return '0s';
  if (sec < 1) {
    const ms = sec * 1000;
    return (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0)) + 'ms';
  }
  let s = Math.round(sec);
  const parts = [];
  for (const [unit, n] of [['d', 86400], ['h', 3600], ['m', 60]]) {
    if (s >= n) {
      parts.push(Math.floor(s / n) + unit);
      s %= n;
    }
  }
  if (s > 0 || parts.length === 0) parts.push(s + 's');
  return parts.join('');
}

// fmtValue shows a sample value of the Prometheus API ("1.5e+00") as a
// plain number where that is exact enough.
export function fmtValue(s) {
  const n = Number(s);
  if (!Number.isFinite(n)) return s;
  return (Math.abs(n) >= 1e-3 && Math.abs(n) < 1e15) || n === 0 ? String(Number(n.toPrecision(12))) : s;
}

// relTime is "3m12s ago" or "in 2h" for an RFC 3339 time, "never" for
// Go's zero time.
export function relTime(iso) {
  if (isZeroTime(iso)) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const sec = (Date.now() - t) / 1000;
  if (Math.abs(sec) < 1) return 'now';
  return sec > 0 ? fmtDuration(sec) + ' ago' : 'in ' + fmtDuration(-sec);
}

// timeEl shows a time relative to now, with the exact time as a tooltip.
export function timeEl(iso) {
  if (isZeroTime(iso)) return h('span', { class: 'muted' }, 'never');
  const d = new Date(iso);
  const exact = Number.isNaN(d.getTime()) ? iso : d.toISOString();
  return h('time', { datetime: iso, title: exact }, relTime(iso));
}

// sortedEntries returns an object's entries sorted by key, alertname
// first as Prometheus shows them.
export function sortedEntries(obj) {
  return Object.entries(obj || {}).sort(([a], [b]) => {
    if (a === b) return 0;
    if (a === 'alertname') return -1;
    if (b === 'alertname') return 1;
    return a < b ? -1 : 1;
  });
}

// labelsEl shows a label set as chips.
export function labelsEl(obj, omit) {
  const entries = sortedEntries(obj).filter(([k]) => !(omit && k in omit));
  if (entries.length === 0) return h('span', { class: 'muted' }, '{}');
  return h('span', { class: 'labels' },
    entries.map(([k, v]) => h('span', { class: 'label' }, h('span', { class: 'label-name' }, k), '=', v)));
}

// annotationsEl shows annotations as a definition list; http(s) values
// (runbook URLs) are links.
export function annotationsEl(obj) {
  const entries = sortedEntries(obj);
  if (entries.length === 0) return h('span', { class: 'muted' }, 'none');
  return h('dl', { class: 'annotations' }, entries.map(([k, v]) => {
    const url = /^https?:\/\//.test(v) ? safeURL(v) : null;
    return [h('dt', {}, k), h('dd', {}, url ? externalLink(url, v) : v)];
  }));
}

// badge is a small coloured word: its class is kind-<word>.
export function badge(word, title) {
  return h('span', { class: `badge kind-${String(word).replace(/[^a-z0-9-]/gi, '')}`, title }, word);
}

// table builds a table from a header row and rows of cells.
export function table(headers, rows, attrs) {
  return h('table', attrs || {},
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', {}, x)))),
    h('tbody', {}, rows));
}

// empty is the text shown instead of an empty list.
export function empty(text) {
  return h('p', { class: 'empty' }, text);
}

// errorBox shows an error message.
export function errorBox(err) {
  return h('div', { class: 'error', role: 'alert' }, String(err && err.message ? err.message : err));
}

// escapeMatcherValue quotes a value for Alertmanager's matcher syntax.
function escapeMatcherValue(v) {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

// formatMatcher writes {name, op, value} as name<op>"value".
export function formatMatcher(m) {
  return `${m.name}${m.op}"${escapeMatcherValue(m.value)}"`;
}

export const labelNameRE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

// parseMatcher reads name<op>"value" (formatMatcher's output, the quotes
// optional) back; null if it is not one.
export function parseMatcher(s) {
  const m = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s.exec(s);
  if (!m) return null;
  let raw = m[3];
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) raw = raw.slice(1, -1);
  const value = raw.replace(/\\(.)/gs, (_, c) => (c === 'n' ? '\n' : c === '"' || c === '\\' ? c : '\\' + c));
  return { name: m[1], op: m[2], value };
}

// apiMatcher converts {name, op, value} to the API v2's matcher.
export function apiMatcher(m) {
  return { name: m.name, value: m.value, isRegex: m.op === '=~' || m.op === '!~', isEqual: m.op === '=' || m.op === '=~' };
}

// fromAPIMatcher converts the API v2's matcher to {name, op, value}.
export function fromAPIMatcher(m) {
  const eq = m.isEqual !== false;
  const op = m.isRegex ? (eq ? '=~' : '!~') : (eq ? '=' : '!=');
  return { name: m.name, op, value: m.value };
}

// matchersEl shows matchers as chips.
export function matchersEl(ms) {
  return h('span', { class: 'labels' }, ms.map((m) => h('span', { class: 'label matcher' }, formatMatcher(fromAPIMatcher(m)))));
}

// silenceLink is the new-silence form's address with matchers for the
// labels of an alert (every label but those of omit).
export function silenceLink(labels) {
  const p = new URLSearchParams();
  for (const [k, v] of sortedEntries(labels)) p.append('m', formatMatcher({ name: k, op: '=', value: v }));
  return '#/silences/new?' + p.toString();
}
