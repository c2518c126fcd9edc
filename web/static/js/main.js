// The single-page application: routes in the URL's fragment, the
// navigation bar, and the refresh of the list pages.
import { h, errorBox, fmtDuration } from './dom.js';
import { get } from './api.js';
import { renderRules, renderRule } from './rules.js';
import { renderAlerts } from './alerts.js';
import { renderGroups } from './groups.js';
import { renderSilences, renderSilenceForm } from './silences.js';
import { renderNotifications } from './notifications.js';

// REFRESH is how often a list page reloads its data.
const REFRESH_MS = 10000;

const routes = [
  { path: '/rules', title: 'Rules', nav: true, refresh: true, render: renderRules },
  { path: '/rule', title: 'Rule', parent: '/rules', refresh: true, render: renderRule },
  { path: '/alerts', title: 'Alerts', nav: true, refresh: true, render: renderAlerts },
  { path: '/groups', title: 'Groups', nav: true, refresh: true, render: renderGroups },
  { path: '/silences', title: 'Silences', nav: true, refresh: true, render: renderSilences },
  { path: '/silences/new', title: 'New silence', parent: '/silences', render: renderSilenceForm },
  { path: '/notifications', title: 'Notifications', nav: true, refresh: true, render: renderNotifications },
];

function current() {
  const raw = location.hash.replace(/^#/, '');
  const q = raw.indexOf('?');
  const path = (q < 0 ? raw : raw.slice(0, q)) || '/rules';
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  return { route: routes.find((r) => r.path === path), path, params };
}

function renderNav(active) {
  const nav = document.getElementById('nav');
  nav.replaceChildren(...routes.filter((r) => r.nav).map((r) =>
    h('a', { href: '#' + r.path, class: r.path === active ? 'active' : '', 'aria-current': r.path === active ? 'page' : false }, r.title)));
}

let generation = 0;

// show renders the page of the current address. A refresh keeps the
// scroll position and is skipped while the user is in the middle of
// something (a confirmation pending, a field focused).
async function show(refresh) {
  const { route, path, params } = current();
  const page = document.getElementById('page');
  if (refresh && (!route || !route.refresh || page.querySelector('.confirming') ||
      (document.activeElement && page.contains(document.activeElement) && document.activeElement.matches('input, select, textarea')))) {
    return;
  }
  const gen = ++generation;
  renderNav(route ? route.parent || route.path : '');
  if (!route) {
    page.replaceChildren(errorBox(`No page ${path}.`), h('p', {}, h('a', { href: '#/rules' }, 'Rules')));
    page.dataset.page = path;
    page.dataset.state = 'error';
    return;
  }
  document.title = `${route.title} · alertd`;
  if (!refresh) {
    page.dataset.state = 'loading';
    page.dataset.page = route.path;
  }
  let view;
  let state = 'ready';
  try {
    view = await route.render(params, { refresh: () => show(true), reload: () => show(false) });
  } catch (e) {
    view = errorBox(e);
    state = 'error';
  }
  if (gen !== generation) return; // the user has moved on
  const y = window.scrollY;
  page.replaceChildren(view);
  page.dataset.page = route.path;
  page.dataset.state = state;
  if (refresh) window.scrollTo(0, y);
  else window.scrollTo(0, 0);
}

async function showVersion() {
  try {
    const st = await get('api/v2/status');
    const el = document.getElementById('version');
    const up = (Date.now() - Date.parse(st.uptime)) / 1000;
    const v = st.versionInfo && st.versionInfo.version;
    el.textContent = [v ? 'alertd ' + v : '', Number.isFinite(up) ? 'up ' + fmtDuration(up) : ''].filter(Boolean).join(' · ');
    el.title = `started ${st.uptime}`;
  } catch {
    // The version is decoration: the page itself reports API errors.
  }
}

window.addEventListener('hashchange', () => show(false));
setInterval(() => {
  if (document.visibilityState === 'visible') show(true);
}, REFRESH_MS);
show(false);
showVersion();
