// What every page is made of: the payload a view sends (text fields, HTML fragments, chart data),
// and the small HTML pieces views share. Every value from the cluster is escaped here.
import type { Condition } from '../../api/generated/types.js';
import { escapeHtml } from './html-escape.js';
import type { SeriesSet } from './history.js';

export interface ChartData {
  title: string;
  unit: string;
  /** Seconds since the epoch, as the chart's x axis. */
  t: number[];
  series: { label: string; values: (number | null)[] }[];
  /** The text alternative: what the chart shows, in words. */
  summary: string;
}

/** One page's live content. The page's HTML is built from it; each update sends it again. */
export interface ViewPayload {
  title: string;
  /** Element id → text content. */
  fields: Record<string, string>;
  /** Element id → inner HTML (already escaped). */
  fragments: Record<string, string>;
  charts: Record<string, ChartData>;
}

/** A table with a caption and header row; cells are text unless given as `{ html }`. */
export function table(
  caption: string,
  head: string[],
  rows: (string | number | { html: string })[][],
  empty = 'None yet.',
): string {
  const cell = (c: string | number | { html: string }) => (typeof c === 'object' ? c.html : escapeHtml(c));
  if (rows.length === 0) return `<p class="empty">${escapeHtml(caption)}: ${escapeHtml(empty)}</p>`;
  return `<table><caption>${escapeHtml(caption)}</caption><thead><tr>${head
    .map((h) => `<th scope="col">${escapeHtml(h)}</th>`)
    .join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${cell(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

export function link(href: string, text: string): { html: string } {
  return { html: `<a href="${escapeHtml(href)}">${escapeHtml(text)}</a>` };
}

export function healthBadge(health: 'ready' | 'failing' | 'pending', text: string): { html: string } {
  return { html: `<span class="badge ${health}">${escapeHtml(text)}</span>` };
}

export function conditionsTable(conditions: readonly Condition[] | undefined): string {
  return table(
    'Conditions',
    ['Type', 'Status', 'Reason', 'Message', 'Since'],
    (conditions ?? []).map((c) => [c.type, c.status, c.reason, c.message, c.lastTransitionTime]),
    'the operator has not reported any.',
  );
}

/** A chart of some of a SeriesSet's columns, with its text alternative. */
export function chartOf<K extends string>(
  set: SeriesSet<K>,
  columns: { key: K; label: string }[],
  title: string,
  unit: string,
  format: (v: number | undefined) => string,
): ChartData {
  const latest = columns.map((c) => `${c.label} ${format(set.latest(c.key))}`).join(', ');
  const span = set.t.length > 1 ? Math.round((set.t.at(-1)! - set.t[0]!) / 60_000) : 0;
  return {
    title,
    unit,
    t: set.t.map((t) => t / 1000),
    series: columns.map((c) => ({ label: c.label, values: set.columns[c.key] })),
    summary: `${title} over the last ${span < 1 ? 'minute' : `${span} minutes`}; now: ${latest}.`,
  };
}

export const relTime = (iso: string | undefined, now: number): string => {
  if (!iso) return '';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.floor(s / 60)}m ago` : `${Math.floor(s / 3600)}h ago`;
};
