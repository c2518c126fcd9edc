// The rule groups, and one rule with its query and a link to the
// datasource's graph.
import { h, badge, timeEl, fmtDuration, fmtValue, labelsEl, annotationsEl, table, empty, safeURL, externalLink, silenceLink } from './dom.js';
import { v1 } from './api.js';

function ruleHref(group, index, rule) {
  const p = new URLSearchParams({ file: group.file, group: group.name, rule: String(index), name: rule.name });
  return '#/rule?' + p.toString();
}

// groupHealth is "err" if a rule failed at its last evaluation, "ok" if
// all succeeded, "unknown" before the first evaluation.
// Recording rules, which alertd lists but does not evaluate, stay
// unknown and do not count.
function groupHealth(g) {
  const errs = g.rules.filter((r) => r.health === 'err').length;
  if (errs > 0) return badge('err', `${errs} of ${g.rules.length} rules failed`);
  if (g.rules.some((r) => r.health === 'ok')) return badge('ok');
  return badge('unknown', 'not evaluated yet');
}

function ruleState(r) {
  if (r.type !== 'alerting') return badge('recording');
  const n = (r.alerts || []).length;
  return [badge(r.state || 'inactive'), n > 0 ? h('span', { class: 'muted' }, ` ${n}`) : null];
}

function groupCard(g) {
  const rows = g.rules.map((r, i) => h('tr', { class: r.health === 'err' ? 'row-err' : '' },
    h('td', {}, h('a', { href: ruleHref(g, i, r), class: 'rule-name' }, r.name)),
    h('td', {}, ruleState(r)),
    h('td', {}, badge(r.health || 'unknown')),
    h('td', {}, timeEl(r.lastEvaluation)),
    h('td', { class: 'num' }, fmtDuration(r.evaluationTime)),
    h('td', { class: 'error-text' }, r.lastError || ''),
  ));
  return h('section', { class: 'card group', 'data-group': g.name },
    h('header', { class: 'card-head' },
      h('h2', {}, g.name),
      groupHealth(g),
      h('span', { class: 'muted', title: 'file' }, g.file),
      h('span', { class: 'facts' },
        h('span', {}, 'every ', fmtDuration(g.interval)),
        h('span', {}, 'last evaluation ', timeEl(g.lastEvaluation)),
        h('span', {}, 'took ', fmtDuration(g.evaluationTime)))),
    g.rules.length === 0 ? empty('No rules.') :
      table(['Rule', 'State', 'Health', 'Last evaluation', 'Duration', 'Last error'], rows));
}

export async function renderRules() {
  const data = await v1('api/v1/rules');
  const groups = data.groups || [];
  const rules = groups.reduce((n, g) => n + g.rules.length, 0);
  const failing = groups.reduce((n, g) => n + g.rules.filter((r) => r.health === 'err').length, 0);
  return h('div', {},
    h('div', { class: 'page-head' },
      h('h1', {}, 'Rules'),
      h('span', { class: 'muted' }, `${groups.length} groups, ${rules} rules`),
      failing > 0 ? badge('err', 'rules whose last evaluation failed') : null,
      failing > 0 ? h('span', { class: 'error-text' }, `${failing} failing`) : null),
    groups.length === 0 ? empty('No rule groups: list rule files under rule_files in alertd.yml.') : groups.map(groupCard));
}

// graphURL is the datasource's graph page for the query, or null.
function graphURL(base, query) {
  const u = base ? safeURL(base) : null;
  if (!u) return null;
  return `${u.replace(/\/+$/, '')}/graph?g0.expr=${encodeURIComponent(query)}&g0.tab=0`;
}

function fact(name, ...value) {
  return [h('dt', {}, name), h('dd', {}, ...value)];
}

export async function renderRule(params) {
  const file = params.get('file') || '';
  const group = params.get('group') || '';
  const q = new URLSearchParams();
  q.append('file[]', file);
  q.append('rule_group[]', group);
  const [data, ds] = await Promise.all([v1('api/v1/rules?' + q.toString()), v1('api/v1/status/datasource')]);
  const g = (data.groups || []).find((x) => x.file === file && x.name === group);
  const idx = Number(params.get('rule'));
  const name = params.get('name');
  let r = g && g.rules[idx];
  if (g && (!r || (name !== null && r.name !== name))) r = g.rules.find((x) => x.name === name);
  if (!r) throw new Error(`No rule ${name || idx} in group ${group} of ${file}: the rule files may have changed.`);

  const graph = graphURL(ds.url, r.query);
  const facts = [
    fact('Group', h('a', { href: '#/rules' }, g.name), ' ', h('span', { class: 'muted' }, g.file)),
    fact('Type', r.type),
    fact('Health', badge(r.health || 'unknown')),
    r.lastError ? fact('Last error', h('span', { class: 'error-text' }, r.lastError)) : null,
    fact('Last evaluation', timeEl(r.lastEvaluation), ` (took ${fmtDuration(r.evaluationTime)})`),
  ];
  if (r.type === 'alerting') {
    facts.push(fact('State', badge(r.state || 'inactive')));
    facts.push(fact('For', fmtDuration(r.duration)));
    if (r.keepFiringFor) facts.push(fact('Keep firing for', fmtDuration(r.keepFiringFor)));
  }
  facts.push(fact('Labels', labelsEl(r.labels)));
  if (r.type === 'alerting') facts.push(fact('Annotations', annotationsEl(r.annotations)));

  const alerts = (r.alerts || []).map((a) => h('tr', {},
    h('td', {}, badge(a.state)),
    h('td', {}, timeEl(a.activeAt)),
    h('td', { class: 'num', title: a.value }, fmtValue(a.value)),
    h('td', {}, labelsEl(a.labels)),
    h('td', {}, annotationsEl(a.annotations)),
    h('td', {}, h('a', { href: silenceLink(a.labels) }, 'Silence'))));

  return h('div', {},
    h('div', { class: 'page-head' }, h('h1', {}, r.name), badge(r.type)),
    h('section', { class: 'card' },
      h('h2', {}, 'Query'),
      h('pre', { class: 'query' }, r.query),
      graph ? h('p', {}, externalLink(graph, 'Open in the datasource’s graph'), h('span', { class: 'muted' }, ` (${new URL(graph).origin})`))
        : h('p', { class: 'muted' }, 'No datasource URL configured.')),
    h('section', { class: 'card' }, h('dl', { class: 'facts-list' }, facts)),
    r.type === 'alerting' ? h('section', { class: 'card' },
      h('h2', {}, `Alerts (${alerts.length})`),
      alerts.length === 0 ? empty('No pending or firing alerts.') :
        table(['State', 'Active since', 'Value', 'Labels', 'Annotations', ''], alerts)) : null);
}
