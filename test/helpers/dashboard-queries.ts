import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { ROOT } from './process';

export const DOCKER = join(ROOT, 'docker');
export const DASHBOARD = join(DOCKER, 'grafana', 'dashboards', 'tracseq-gateway.json');
export const ALERTS = join(DOCKER, 'prometheus', 'alerts.yml');

/** Every expression of the dashboard (panel targets, template queries) and of the alert rules. */
export function dashboardAndAlertExpressions(): { where: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: { title: string; targets?: { expr: string }[] }[];
    templating: { list: { name: string; query: string | { query: string } }[] };
  };
  const out: { where: string; expr: string }[] = [];
  for (const p of dashboard.panels) (p.targets ?? []).forEach((t, i) => out.push({ where: `dashboard panel "${p.title}" query ${i + 1}`, expr: t.expr }));
  for (const v of dashboard.templating.list) out.push({ where: `dashboard variable $${v.name}`, expr: typeof v.query === 'string' ? v.query : v.query.query });
  const rules = yaml.load(readFileSync(ALERTS, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  for (const g of rules.groups) for (const r of g.rules) out.push({ where: `alert ${r.alert}`, expr: r.expr });
  return out;
}
