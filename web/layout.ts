/**
 * The page shell and the form pieces every page uses: one stylesheet and one small script, both
 * served from /static (nothing from the internet), a skip link, a navigation for signed-in people,
 * and fields whose labels and errors are tied to their inputs for screen readers.
 */
import type { Session } from '../users/sign-in.ts';
import { CSRF_FIELD } from './csrf.ts';
import { type Html, html } from './html.ts';

export interface PageFrame {
  title: string;
  session: Session | null;
  csrfToken: string;
  /** A notice at the top of the page (after a redirect): what just happened. */
  flash?: string | null;
}

const consoleLinks = [
  ['/console/calendars', 'Calendars'],
  ['/console/schedule', 'Schedule'],
  ['/console/booking-calendars', 'Booking calendars'],
] as const;

function navigation(frame: PageFrame): Html | null {
  if (!frame.session) return null;
  const links =
    frame.session.holder.kind === 'admin' ? [['/admin/providers', 'Providers'] as const] : consoleLinks;
  return html`<nav aria-label="Main">
    <ul>
      ${links.map(([href, label]) => html`<li><a href="${href}">${label}</a></li>`)}
    </ul>
    <form method="post" action="/sign-out" class="inline">
      ${csrfField(frame.csrfToken)}
      <button type="submit" class="link">Sign out</button>
    </form>
  </nav>`;
}

export function page(frame: PageFrame, body: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${frame.title} · Calbridge</title>
  <link rel="stylesheet" href="/static/app.css">
  <script src="/static/app.js" defer></script>
</head>
<body>
  <a class="skip" href="#main">Skip to content</a>
  <header class="top">
    <a class="brand" href="/">Calbridge</a>
    ${navigation(frame)}
  </header>
  <main id="main" tabindex="-1">
    ${frame.flash ? html`<p class="flash" role="status">${frame.flash}</p>` : null}
    ${body}
  </main>
</body>
</html>`;
}

export const csrfField = (token: string) => html`<input type="hidden" name="${CSRF_FIELD}" value="${token}">`;

export interface FieldOptions {
  name: string;
  label: string;
  type?: 'text' | 'email' | 'password' | 'url' | 'number' | 'date' | 'time' | 'datetime-local';
  value?: string | number | null;
  error?: string | null;
  hint?: string | Html | null;
  required?: boolean;
  autocomplete?: string;
  /** Extra attributes as trusted markup (min, max, step, inputmode...). */
  attributes?: Html;
}

/** A labelled input with its hint and error, tied to it by aria-describedby. */
export function field(options: FieldOptions): Html {
  const id = `f-${options.name.replace(/[^\w-]/g, '-')}`;
  const described = [options.hint ? `${id}-hint` : null, options.error ? `${id}-error` : null]
    .filter(Boolean)
    .join(' ');
  return html`<div class="field${options.error ? ' has-error' : ''}">
    <label for="${id}">${options.label}</label>
    ${options.hint ? html`<p class="hint" id="${id}-hint">${options.hint}</p>` : null}
    <input id="${id}" name="${options.name}" type="${options.type ?? 'text'}"
      ${options.value !== undefined && options.value !== null && options.type !== 'password' ? html`value="${String(options.value)}"` : null}
      ${options.required ? html`required` : null}
      ${options.autocomplete ? html`autocomplete="${options.autocomplete}"` : null}
      ${described ? html`aria-describedby="${described}"` : null}
      ${options.error ? html`aria-invalid="true"` : null}
      ${options.attributes ?? null}>
    ${options.error ? html`<p class="error" id="${id}-error">${options.error}</p>` : null}
  </div>`;
}

/** A form-level error summary (what went wrong, for the whole form). */
export const formError = (message: string | null | undefined) =>
  message ? html`<div class="form-error" role="alert">${message}</div>` : null;

/** An instant shown with its zone, e.g. "Tue 1 Dec 2026, 10:00 (Europe/Paris)". */
export function when(instant: Date | string, timeZone: string): string {
  const date = typeof instant === 'string' ? new Date(instant) : instant;
  const text = new Intl.DateTimeFormat('en-GB', {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZone,
  }).format(date);
  return `${text} (${timeZone})`;
}
