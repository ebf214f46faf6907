import { readFileSync } from 'node:fs';

let html: string | undefined;

/** The dashboard: one self-contained HTML page (vanilla JS, inline SVG), read once from `dashboard.html`. */
export function dashboardHtml(): string {
  html ??= readFileSync(new URL('./dashboard.html', import.meta.url), 'utf8');
  return html;
}
