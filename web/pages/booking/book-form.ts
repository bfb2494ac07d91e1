/**
 * The booking form (the chosen time, name, e-mail, notes) and the confirmation after it. The time
 * and the visitor's zone travel as hidden fields; the zone is stored with the booking, so its
 * e-mails and manage page show times the way the visitor saw them.
 */
import type { PublicBookingCalendarView } from '../../../bookings/booking-calendars.ts';
import { type Html, html } from '../../html.ts';
import { csrfField, field, formError, when } from '../../layout.ts';
import { withQuery } from './times.ts';

export interface BookingFormValues {
  name: string;
  email: string;
  notes: string;
  serviceId: string;
}

export interface BookingFormState {
  /** The chosen start (ISO, as the times page offered it). */
  start: string;
  zone: string;
  values: BookingFormValues;
  errors: Partial<Record<keyof BookingFormValues, string>>;
}

export const emptyValues: BookingFormValues = { name: '', email: '', notes: '', serviceId: '' };

/** One page's worth of facts about what is booked: its duration and services. */
export function calendarFacts(view: PublicBookingCalendarView): Html {
  return html`<p class="duration">${view.durationMinutes} minutes</p>
    ${
      view.services.length
        ? html`<h2>Services</h2><ul>${view.services.map((s) => html`<li>${s.name} (${s.durationMinutes} minutes)</li>`)}</ul>`
        : null
    }`;
}

function notesField(value: string, error: string | undefined): Html {
  const described = ['f-notes-hint', error ? 'f-notes-error' : null].filter(Boolean).join(' ');
  return html`<div class="field${error ? ' has-error' : ''}">
    <label for="f-notes">Notes (optional)</label>
    <p class="hint" id="f-notes-hint">Anything the host should know before you meet.</p>
    <textarea id="f-notes" name="notes" rows="4" aria-describedby="${described}"${error ? html` aria-invalid="true"` : null}>${value}</textarea>
    ${error ? html`<p class="error" id="f-notes-error">${error}</p>` : null}
  </div>`;
}

function servicesField(view: PublicBookingCalendarView, state: BookingFormState): Html | null {
  if (!view.services.length) return null;
  const chosen = state.values.serviceId || view.services[0]!.id;
  return html`<fieldset>
    <legend>Service</legend>
    ${state.errors.serviceId ? html`<p class="error">${state.errors.serviceId}</p>` : null}
    ${view.services.map(
      (s, i) => html`<div class="choice">
        <input type="radio" id="f-service-${i}" name="serviceId" value="${s.id}"${s.id === chosen ? html` checked` : null}>
        <label for="f-service-${i}">${s.name} (${s.durationMinutes} minutes)</label>
      </div>`,
    )}
  </fieldset>`;
}

/** The form for one chosen time; `path` is the page the times came from (/book/… or /l/…). */
export function bookingForm(
  path: string,
  view: PublicBookingCalendarView,
  state: BookingFormState,
  csrfToken: string,
): Html {
  const { errors, values } = state;
  const hasErrors = Object.values(errors).some(Boolean);
  return html`<h1>Book ${view.name}</h1>
    <p class="chosen">Your time: <strong>${when(state.start, state.zone)}</strong>, ${view.durationMinutes} minutes.</p>
    <p><a href="${withQuery(path, { timeZone: state.zone })}">Pick another time</a></p>
    <form method="post" action="${path}/confirm" novalidate>
      ${csrfField(csrfToken)}
      <input type="hidden" name="start" value="${state.start}">
      <input type="hidden" name="timeZone" value="${state.zone}">
      ${formError(hasErrors ? 'Please correct the fields marked below.' : null)}
      ${servicesField(view, state)}
      ${field({ name: 'name', label: 'Your name', value: values.name, error: errors.name ?? null, required: true, autocomplete: 'name' })}
      ${field({ name: 'email', label: 'Your e-mail address', type: 'email', value: values.email, error: errors.email ?? null, required: true, autocomplete: 'email', hint: 'We send the confirmation here, with a link to reschedule or cancel.' })}
      ${notesField(values.notes, errors.notes)}
      <button type="submit">Book this time</button>
    </form>`;
}
