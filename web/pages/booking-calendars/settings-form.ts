/**
 * A booking calendar's settings as a form, for creating one and for changing it: the fields, how
 * typed text becomes the input the API's schemas take (bookings/booking-calendar-input.ts), and
 * where each problem is shown.
 */
import { z } from 'zod';
import {
  bookingCalendarChangeInput,
  newBookingCalendarInput,
} from '../../../bookings/booking-calendar-input.ts';
import type { BookingCalendarView } from '../../../bookings/booking-calendars.ts';
import { AppError, type FieldProblem } from '../../../domain/errors.ts';
import { fieldErrors } from '../../forms.ts';
import { type Html, html } from '../../html.ts';
import { field } from '../../layout.ts';

export type SettingsValues = Record<string, string>;
export type SettingsErrors = Record<string, string>;

const NUMBER_FIELDS = [
  'durationMinutes',
  'slotIntervalMinutes',
  'bufferBeforeMinutes',
  'bufferAfterMinutes',
  'minNoticeMinutes',
  'maxDaysAhead',
] as const;

/**
 * The kinds of calendar the form offers. The team types (round robin, collective, classes,
 * services) need more than one host and come later; they join this list then.
 */
const OFFERED_TYPES = [{ value: 'simple', label: 'Just me', hint: 'People book a time with you.' }] as const;

export const NEW_CALENDAR_VALUES: SettingsValues = {
  name: '',
  slug: '',
  type: 'simple',
  durationMinutes: '30',
  slotIntervalMinutes: '',
  bufferBeforeMinutes: '0',
  bufferAfterMinutes: '0',
  minNoticeMinutes: '0',
  maxDaysAhead: '60',
};

export function valuesOf(calendar: BookingCalendarView): SettingsValues {
  return {
    name: calendar.name,
    slug: calendar.slug,
    type: calendar.type,
    durationMinutes: String(calendar.durationMinutes),
    slotIntervalMinutes: calendar.slotIntervalMinutes === null ? '' : String(calendar.slotIntervalMinutes),
    bufferBeforeMinutes: String(calendar.bufferBeforeMinutes),
    bufferAfterMinutes: String(calendar.bufferAfterMinutes),
    minNoticeMinutes: String(calendar.minNoticeMinutes),
    maxDaysAhead: String(calendar.maxDaysAhead),
  };
}

/** The typed values, trimmed; a repeated name (only a hand-made request sends one) counts as its first. */
export function readValues(body: Record<string, unknown>, names: readonly string[]): SettingsValues {
  const values: SettingsValues = {};
  for (const name of names) {
    const raw = [body[name]].flat()[0];
    values[name] = typeof raw === 'string' ? raw.trim() : '';
  }
  return values;
}

export const CREATE_FIELDS = ['name', 'slug', 'type', ...NUMBER_FIELDS] as const;
export const CHANGE_FIELDS = ['name', ...NUMBER_FIELDS] as const;

/**
 * The numbers as numbers. Empty means "the default" (on a change: unchanged), except the slot
 * interval, where empty means "every duration"; the duration itself must be given.
 */
function numbers(values: SettingsValues, errors: SettingsErrors) {
  const out: Record<string, number | null | undefined> = {};
  for (const name of NUMBER_FIELDS) {
    const text = values[name] ?? '';
    if (text === '') {
      if (name === 'durationMinutes') errors[name] = 'Enter the duration in minutes.';
      out[name] = name === 'slotIntervalMinutes' ? null : undefined;
    } else if (/^\d{1,9}$/.test(text)) out[name] = Number(text);
    else errors[name] = 'Enter a whole number.';
  }
  return out;
}

/** zod's number bounds in words a person reads; other messages are the schemas' own. */
function schemaErrors(error: z.ZodError): SettingsErrors {
  const issues = error.issues.map((issue) => {
    if (issue.code === 'too_small' && issue.origin === 'number')
      return { ...issue, message: `must be at least ${issue.minimum}` };
    if (issue.code === 'too_big' && issue.origin === 'number')
      return { ...issue, message: `must be at most ${issue.maximum}` };
    return issue;
  });
  return fieldErrors(new z.ZodError(issues));
}

type Parsed<T> = { data: T; errors: null } | { data: null; errors: SettingsErrors };

function parse<T>(schema: z.ZodType<T>, input: Record<string, unknown>, errors: SettingsErrors): Parsed<T> {
  const parsed = schema.safeParse(input);
  const all = { ...(parsed.success ? {} : schemaErrors(parsed.error)), ...errors };
  if (parsed.success && !Object.keys(all).length) return { data: parsed.data, errors: null };
  return { data: null, errors: all };
}

export function parseNewCalendar(values: SettingsValues, hostId: string) {
  const errors: SettingsErrors = {};
  const given = Object.fromEntries(
    Object.entries(numbers(values, errors)).filter(([, v]) => v !== undefined),
  );
  if (!OFFERED_TYPES.some((t) => t.value === values.type)) errors.type = 'Choose who is booked.';
  return parse(
    newBookingCalendarInput,
    { name: values.name, slug: values.slug, type: values.type, hosts: [hostId], ...given },
    errors,
  );
}

export function parseChange(values: SettingsValues) {
  const errors: SettingsErrors = {};
  const given = Object.fromEntries(
    Object.entries(numbers(values, errors)).filter(([, v]) => v !== undefined),
  );
  return parse(bookingCalendarChangeInput, { name: values.name, ...given }, errors);
}

/**
 * A use case's refusal as field errors, when it names fields (a taken slug, a type this server
 * does not book yet); anything else is rethrown for the error page.
 */
export function refusalErrors(error: unknown): { status: number; errors: SettingsErrors } {
  if (error instanceof AppError && error.code === 'already_exists')
    return { status: 409, errors: { slug: 'This slug is taken: choose another.' } };
  if (error instanceof AppError && error.code === 'validation_failed') {
    const fields = (error.details?.fields ?? []) as FieldProblem[];
    const errors: SettingsErrors = {};
    for (const problem of fields) {
      const name = problem.path in NEW_CALENDAR_VALUES ? problem.path : 'form';
      errors[name] ??= problem.message.charAt(0).toUpperCase() + problem.message.slice(1);
    }
    if (!fields.length) errors.form = error.message;
    return { status: 422, errors };
  }
  throw error;
}

const number = (min: number) => html`inputmode="numeric" min="${min}" step="1"`;

/** The fields; `creating` adds the slug and the kind of calendar, which never change afterwards. */
export function settingsFields(
  values: SettingsValues,
  errors: SettingsErrors,
  publicUrl: string,
  creating: boolean,
): Html {
  const num = (name: string, label: string, hint: string | null, min: number) =>
    field({
      name,
      label,
      type: 'number',
      value: values[name],
      error: errors[name],
      hint,
      attributes: number(min),
    });
  return html`
    ${field({ name: 'name', label: 'Name', value: values.name, error: errors.name, required: true, autocomplete: 'off', hint: 'What people see on the booking page, e.g. “Consultation”.' })}
    ${
      creating
        ? html`${field({
            name: 'slug',
            label: 'Slug',
            value: values.slug,
            error: errors.slug,
            required: true,
            autocomplete: 'off',
            hint: `Lower-case letters, digits and dashes; it ends the booking link: ${publicUrl}/book/your-slug. It cannot be changed later.`,
            attributes: html`spellcheck="false" autocapitalize="none"`,
          })}
          <fieldset ${errors.type ? html`aria-describedby="f-type-error"` : null}>
            <legend>Who is booked</legend>
            ${OFFERED_TYPES.map(
              (t) => html`<div class="checkbox-row">
                <input type="radio" id="f-type-${t.value}" name="type" value="${t.value}" aria-describedby="f-type-${t.value}-hint" ${values.type === t.value ? html`checked` : null}>
                <label for="f-type-${t.value}">${t.label}</label>
                <span class="hint" id="f-type-${t.value}-hint">${t.hint}</span>
              </div>`,
            )}
            <p class="hint">Team calendars (round robin, collective, classes, services) come later.</p>
            ${errors.type ? html`<p class="error" id="f-type-error">${errors.type}</p>` : null}
          </fieldset>`
        : null
    }
    ${num('durationMinutes', 'Duration (minutes)', 'How long each appointment lasts.', 5)}
    <fieldset>
      <legend>Advanced</legend>
      ${num('slotIntervalMinutes', 'Slot interval (minutes)', 'How far apart start times are. Leave empty to use the duration.', 5)}
      ${num('bufferBeforeMinutes', 'Buffer before (minutes)', 'Free time kept before each appointment.', 0)}
      ${num('bufferAfterMinutes', 'Buffer after (minutes)', 'Free time kept after each appointment.', 0)}
      ${num('minNoticeMinutes', 'Minimum notice (minutes)', 'How soon before its start a time can still be booked.', 0)}
      ${num('maxDaysAhead', 'Days ahead', 'How many days ahead people can book.', 1)}
    </fieldset>`;
}
