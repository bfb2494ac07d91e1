/**
 * The provider's Schedule page: weekly working hours and date overrides in their time zone. The
 * form is plain inputs (a few time rows per weekday, a few new override rows) so it works without
 * script; it is read into the shape PUT /v1/me/schedule takes and checked by the same schema, whose
 * complaints are pointed back at the inputs that caused them.
 */
import type { Request } from 'express';
import { type DateOverride, WEEKDAYS, type Weekday } from '../../domain/schedule.ts';
import { readSchedule, type ScheduleView, saveSchedule, scheduleInput } from '../../users/schedule.ts';
import type { PageLocals, WebContext } from '../context.ts';
import { fieldErrors } from '../forms.ts';
import { type Html, html } from '../html.ts';
import { csrfField, field, formError, page } from '../layout.ts';
import { type Pages, signedInUser } from '../routing.ts';

const DAY_NAMES: Record<Weekday, string> = {
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
  sun: 'Sunday',
};
const ROWS_PER_DAY = 3;
const NEW_OVERRIDE_ROWS = 3;
/** The schema allows 48 intervals a day; rows past that are not read. */
const MAX_ROWS = 48;

interface TimeRow {
  start: string;
  end: string;
}
interface NewOverrideRow extends TimeRow {
  date: string;
  closed: boolean;
}
/** The form as typed (times as the inputs show them), and the overrides already saved. */
interface ScheduleForm {
  timeZone: string;
  weekly: Record<Weekday, TimeRow[]>;
  existing: DateOverride[];
  remove: string[];
  added: NewOverrideRow[];
}
/** Messages by input name ("mon.0.end", "new.1.date"), by day ("mon"), or for a whole part. */
type Errors = Record<string, string>;

// A time input cannot hold 24:00, so midnight at the end of the day is entered as 00:00: an end of
// 00:00 could mean nothing else, since an interval's end must come after its start.
const endForInput = (end: string) => (end === '24:00' ? '00:00' : end);
const endFromInput = (end: string) => (end === '00:00' ? '24:00' : end);

/** One form value: a repeated name (only a hand-made request sends one) counts as its first. */
function one(value: unknown): string {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first.trim() : '';
}

function formOf(view: ScheduleView): ScheduleForm {
  const weekly = {} as Record<Weekday, TimeRow[]>;
  for (const day of WEEKDAYS)
    weekly[day] = (view.weekly[day] ?? []).map((i) => ({ start: i.start, end: endForInput(i.end) }));
  return { timeZone: view.timeZone, weekly, existing: view.overrides, remove: [], added: [] };
}

function readForm(body: Record<string, unknown>, existing: DateOverride[]): ScheduleForm {
  const weekly = {} as Record<Weekday, TimeRow[]>;
  for (const day of WEEKDAYS) {
    weekly[day] = [];
    for (let i = 0; i < MAX_ROWS && (`${day}.${i}.start` in body || `${day}.${i}.end` in body); i++)
      weekly[day].push({ start: one(body[`${day}.${i}.start`]), end: one(body[`${day}.${i}.end`]) });
  }
  const added: NewOverrideRow[] = [];
  for (let i = 0; i < MAX_ROWS && `new.${i}.date` in body; i++)
    added.push({
      date: one(body[`new.${i}.date`]),
      start: one(body[`new.${i}.start`]),
      end: one(body[`new.${i}.end`]),
      closed: `new.${i}.closed` in body,
    });
  const remove = [body.remove ?? []].flat().filter((d): d is string => typeof d === 'string');
  return { timeZone: one(body.timeZone), weekly, existing, remove, added };
}

const blank = (row: NewOverrideRow) => !row.date && !row.start && !row.end && !row.closed;

/**
 * The form as the schedule schema's input, and where each of its entries came from: the schema's
 * paths count only the rows that were filled in, and new rows with the same date become one override.
 */
function toInput(form: ScheduleForm) {
  const errors: Errors = {};
  const weekly: Partial<Record<Weekday, TimeRow[]>> = {};
  const weeklyRows = {} as Record<Weekday, number[]>;
  for (const day of WEEKDAYS) {
    weeklyRows[day] = [];
    weekly[day] = [];
    form.weekly[day].forEach((row, index) => {
      if (!row.start && !row.end) return;
      weekly[day]!.push({ start: row.start, end: endFromInput(row.end) });
      weeklyRows[day].push(index);
    });
  }

  const kept = form.existing.filter((o) => !form.remove.includes(o.date));
  const groups: {
    date: string;
    rows: number[];
    intervalRows: number[];
    intervals: TimeRow[];
    closed: boolean;
  }[] = [];
  form.added.forEach((row, index) => {
    if (blank(row)) return;
    let group = row.date ? groups.find((g) => g.date === row.date) : undefined;
    if (!group) {
      group = { date: row.date, rows: [], intervalRows: [], intervals: [], closed: false };
      groups.push(group);
    }
    group.rows.push(index);
    if (row.closed) {
      if (row.start || row.end)
        errors[`new.${index}.start`] = 'Leave the times empty when the date is unavailable all day.';
      group.closed = true;
    } else if (!row.start && !row.end) {
      errors[`new.${index}.start`] = 'Enter the hours, or tick “Unavailable all day”.';
    } else {
      group.intervals.push({ start: row.start, end: endFromInput(row.end) });
      group.intervalRows.push(index);
    }
  });
  for (const group of groups)
    if (group.closed && group.intervals.length)
      errors[`new.${group.intervalRows[0]}.start`] =
        'Another row makes this date unavailable all day: leave it empty or untick that box.';

  const input = {
    timeZone: form.timeZone,
    weekly,
    overrides: [...kept, ...groups.map((g) => ({ date: g.date, intervals: g.closed ? [] : g.intervals }))],
  };

  /** The input (or part of the page) a problem at this schema path belongs to. */
  const target = (path: string): string => {
    const parts = path.split('.');
    if (parts[0] === 'timeZone') return 'timeZone';
    if (parts[0] === 'weekly' && parts[1] && parts[1] in weeklyRows) {
      const day = parts[1] as Weekday;
      const row = weeklyRows[day][Number(parts[2])];
      return row === undefined || !parts[3] ? day : `${day}.${row}.${parts[3]}`;
    }
    if (parts[0] === 'overrides' && parts[1] !== undefined) {
      const group = groups[Number(parts[1]) - kept.length];
      if (!group) return 'overrides';
      if (parts[2] === 'intervals') {
        const row = group.intervalRows[Number(parts[3])];
        if (row !== undefined && parts[4]) return `new.${row}.${parts[4]}`;
        return `new.${group.intervalRows[1] ?? group.rows[0]}.start`;
      }
      return `new.${group.rows[0]}.date`;
    }
    if (parts[0] === 'overrides') {
      // The schema's only complaint about the whole list: a date twice. New rows with one date were
      // merged, so the clash is with an override already saved.
      const clash = groups.find((g) => kept.some((o) => o.date === g.date));
      if (clash) return `new.${clash.rows[0]}.date`;
      return 'overrides';
    }
    return 'form';
  };
  const messages = (path: string, message: string) =>
    path === 'overrides' && target(path) !== 'overrides'
      ? 'This date already has an override: remove that one first, or choose another date.'
      : message;
  return { input, errors, target, messages };
}

function validate(form: ScheduleForm) {
  const { input, errors, target, messages } = toInput(form);
  const parsed = scheduleInput.safeParse(input);
  if (parsed.success && !Object.keys(errors).length) return { data: parsed.data, errors };
  if (!parsed.success)
    for (const [path, message] of Object.entries(fieldErrors(parsed.error))) {
      const name = target(path);
      errors[name] ??= messages(path, message);
    }
  return { data: null, errors };
}

const dateText = (date: string) =>
  new Intl.DateTimeFormat('en-GB', {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    timeZone: 'UTC',
  })
    .format(new Date(`${date}T00:00:00Z`))
    .replace(',', '');

const intervalsText = (intervals: TimeRow[]) =>
  intervals.length ? intervals.map((i) => `${i.start}–${i.end}`).join(', ') : 'Unavailable all day';

const errorText = (errors: Errors, name: string) => {
  const message = errors[name];
  return message ? html`<p class="error" id="f-${name.replace(/\./g, '-')}-error">${message}</p>` : null;
};

/** A "From"/"To" pair; the hidden prefix tells a screen reader which day and row it belongs to. */
function timeRow(prefix: string, context: string, row: TimeRow, errors: Errors): Html {
  const input = (part: 'start' | 'end', label: string) => {
    const name = `${prefix}.${part}`;
    const id = `f-${name.replace(/\./g, '-')}`;
    const error = errors[name];
    return html`<div class="field${error ? ' has-error' : ''}">
      <label for="${id}"><span class="visually-hidden">${context}: </span>${label}</label>
      <input id="${id}" name="${name}" type="time" value="${row[part]}"
        ${error ? html`aria-invalid="true" aria-describedby="${id}-error"` : null}>
      ${error ? html`<p class="error" id="${id}-error">${error}</p>` : null}
    </div>`;
  };
  return html`<div class="time-row">${input('start', 'From')}${input('end', 'To')}</div>`;
}

function dayFieldset(day: Weekday, rows: TimeRow[], errors: Errors): Html {
  const shown = [...rows];
  while (shown.length < ROWS_PER_DAY) shown.push({ start: '', end: '' });
  const name = DAY_NAMES[day];
  return html`<fieldset class="schedule-day" ${errors[day] ? html`aria-describedby="f-${day}-error"` : null}>
    <legend>${name}</legend>
    ${shown.map((row, i) => timeRow(`${day}.${i}`, `${name}, hours ${i + 1}`, row, errors))}
    ${errorText(errors, day)}
  </fieldset>`;
}

function newOverrideRow(row: NewOverrideRow, index: number, errors: Errors): Html {
  const prefix = `new.${index}`;
  const context = `New override ${index + 1}`;
  const closedId = `f-new-${index}-closed`;
  return html`<fieldset class="schedule-override">
    <legend>${context}</legend>
    ${field({
      name: `${prefix}.date`,
      label: 'Date',
      type: 'date',
      value: row.date,
      error: errors[`${prefix}.date`],
    })}
    ${timeRow(prefix, context, row, errors)}
    <div class="checkbox-row">
      <input type="checkbox" id="${closedId}" name="${prefix}.closed" value="yes" ${row.closed ? html`checked` : null}>
      <label for="${closedId}"><span class="visually-hidden">${context}: </span>Unavailable all day</label>
    </div>
  </fieldset>`;
}

function existingOverrides(form: ScheduleForm): Html {
  if (!form.existing.length) return html`<p>No date overrides yet.</p>`;
  return html`<ul class="overrides">
    ${form.existing.map((o, i) => {
      const id = `f-remove-${i}`;
      return html`<li>
        <span><strong>${dateText(o.date)}</strong>: ${intervalsText(o.intervals)}</span>
        <span class="checkbox-row">
          <input type="checkbox" id="${id}" name="remove" value="${o.date}" ${form.remove.includes(o.date) ? html`checked` : null}>
          <label for="${id}">Remove<span class="visually-hidden"> the override on ${dateText(o.date)}</span></label>
        </span>
      </li>`;
    })}
  </ul>`;
}

function scheduleForm(form: ScheduleForm, errors: Errors, csrfToken: string): Html {
  const added = [...form.added];
  while (added.length < NEW_OVERRIDE_ROWS) added.push({ date: '', start: '', end: '', closed: false });
  const hasErrors = Object.keys(errors).length > 0;
  return html`<form method="post" action="/console/schedule" novalidate>
    ${csrfField(csrfToken)}
    ${formError(hasErrors ? (errors.form ?? 'The schedule was not saved: please correct the fields marked below.') : null)}
    ${field({
      name: 'timeZone',
      label: 'Time zone',
      value: form.timeZone,
      error: errors.timeZone,
      required: true,
      hint: 'The hours below are in this zone. An IANA name such as Europe/Paris.',
      attributes: html`list="time-zones" autocomplete="off"`,
    })}
    <datalist id="time-zones">${Intl.supportedValuesOf('timeZone').map((z) => html`<option value="${z}">`)}</datalist>

    <h2 id="weekly-hours">Weekly hours</h2>
    <p class="hint" id="weekly-hint">Up to ${ROWS_PER_DAY} periods a day; leave a day empty when you are not available.
      An end of 00:00 means midnight at the end of the day.</p>
    <div class="schedule-days">${WEEKDAYS.map((day) => dayFieldset(day, form.weekly[day], errors))}</div>

    <h2 id="date-overrides">Date overrides</h2>
    <fieldset ${errors.overrides ? html`aria-describedby="f-overrides-error"` : null}>
      <legend>Saved overrides</legend>
      <p class="hint">An override’s hours replace the weekday’s hours on that date.</p>
      ${existingOverrides(form)}
      ${errorText(errors, 'overrides')}
    </fieldset>
    <p class="hint">Add a date with other hours, or tick “Unavailable all day”. Two rows with the same
      date give that date two periods.</p>
    ${added.map((row, i) => newOverrideRow(row, i, errors))}
    <button type="submit">Save schedule</button>
  </form>`;
}

const DONE: Record<string, string> = { saved: 'Saved. Booking pages offer times from these hours now.' };

export function registerSchedulePages(pages: Pages, ctx: WebContext): void {
  const view = (locals: PageLocals, form: ScheduleForm, errors: Errors, flash: string | null = null) =>
    page(
      { title: 'Schedule', session: locals.session, csrfToken: locals.csrfToken, flash },
      html`<h1>Schedule</h1>
        <p>When people can book you. Booking calendars offer times inside these hours, minus the busy
          time in your calendars.</p>
        ${scheduleForm(form, errors, locals.csrfToken)}`,
    );

  pages.get('/console/schedule', async (req: Request, _res, locals) => {
    const userId = signedInUser(locals);
    const schedule = await readSchedule(ctx.em(req), userId);
    const flash = typeof req.query.done === 'string' ? (DONE[req.query.done] ?? null) : null;
    return view(locals, formOf(schedule), {}, flash);
  });

  pages.post('/console/schedule', async (req, _res, locals) => {
    const userId = signedInUser(locals);
    const em = ctx.em(req);
    const current = await readSchedule(em, userId);
    const form = readForm(req.body ?? {}, current.overrides);
    const { data, errors } = validate(form);
    if (!data) return { status: 422, body: view(locals, form, errors) };
    await saveSchedule(em, userId, data);
    return { redirect: '/console/schedule?done=saved' };
  });
}
