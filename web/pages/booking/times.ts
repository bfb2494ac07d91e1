/**
 * The free times of a booking calendar as a visitor sees them: a time-zone chooser (the page's
 * script switches to the browser's zone when the URL names none), a week of days each with its
 * times as links, and links to earlier and later days. Used to book and to pick a new time.
 */
import type { SlotsView } from '../../../bookings/slots.ts';
import { type Html, html } from '../../html.ts';
import { type DayPage, dayHeading, dayOf, timeOfDay, zoneChoices } from './zones.ts';

/** `path` with `params` as its query (empty values left out). */
export function withQuery(path: string, params: Record<string, string | null | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) query.set(key, value);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export interface TimesOptions {
  /** The page these times are on: the zone form and the paging links go back to it. */
  path: string;
  /** Query parameters every link of the page keeps (a manage token). */
  keep?: Record<string, string>;
  zone: string;
  days: DayPage;
  slots: SlotsView;
  /** Where choosing a time leads. */
  slotHref: (start: string) => string;
}

export function zoneForm(options: Pick<TimesOptions, 'path' | 'keep' | 'zone' | 'days'>): Html {
  const hidden = { ...options.keep, from: options.days.first };
  return html`<form method="get" action="${options.path}" class="zone-form" data-time-zone>
    ${Object.entries(hidden).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
    <div class="field">
      <label for="f-timeZone">Time zone</label>
      <select id="f-timeZone" name="timeZone">
        ${zoneChoices(options.zone).map(
          (zone) =>
            html`<option value="${zone}"${zone === options.zone ? html` selected` : null}>${zone}</option>`,
        )}
      </select>
    </div>
    <button type="submit" class="secondary">Show times in this zone</button>
  </form>`;
}

export function timesSection(options: TimesOptions): Html {
  const { zone, days, slots } = options;
  const byDay = new Map<string, string[]>(days.days.map((day) => [day, []]));
  for (const slot of slots.slots) byDay.get(dayOf(slot.start, zone))?.push(slot.start);
  const link = (from: string) => withQuery(options.path, { ...options.keep, timeZone: zone, from });
  return html`${zoneForm(options)}
    <p>Times are shown in <strong>${zone}</strong>.</p>
    ${slots.stale ? html`<p class="hint">Some times may have been taken since this page was made: booking confirms the time.</p>` : null}
    ${slots.slots.length ? null : html`<p>There are no free times on these days. Try later days.</p>`}
    <div class="days">
      ${[...byDay].map(
        ([day, starts]) => html`<section class="day" aria-labelledby="day-${day}">
          <h2 id="day-${day}">${dayHeading(day)}</h2>
          ${
            starts.length
              ? html`<ul class="slots">${starts.map(
                  (start) =>
                    html`<li><a class="button secondary" href="${options.slotHref(start)}" aria-label="${timeOfDay(start, zone)}, ${dayHeading(day)} (${zone})">${timeOfDay(start, zone)}</a></li>`,
                )}</ul>`
              : html`<p class="hint">No free times.</p>`
          }
        </section>`,
      )}
    </div>
    <nav class="actions paging" aria-label="More days">
      ${days.earlier ? html`<a href="${link(days.earlier)}">Earlier days</a>` : null}
      ${days.later ? html`<a href="${link(days.later)}">Later days</a>` : null}
    </nav>`;
}
