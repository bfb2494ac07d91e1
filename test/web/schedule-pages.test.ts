/**
 * The Schedule page over HTTP: what is saved is exactly what the API then reads back; bad input is
 * answered 422 with each message at the input that caused it, the typed values kept, nothing saved.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Platform, startPlatform } from '../harness/platform.ts';
import { signedInClient } from './signed-in.ts';

let platform: Platform;
beforeAll(async () => {
  platform = await startPlatform();
});
afterAll(() => platform?.stop());

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** The form as a browser sends it: every row, filled or not, plus the given values. */
function scheduleForm(values: Record<string, string>): Record<string, string> {
  const fields: Record<string, string> = { timeZone: 'UTC' };
  for (const day of DAYS)
    for (let i = 0; i < 3; i++) {
      fields[`${day}.${i}.start`] = '';
      fields[`${day}.${i}.end`] = '';
    }
  for (let i = 0; i < 3; i++) {
    fields[`new.${i}.date`] = '';
    fields[`new.${i}.start`] = '';
    fields[`new.${i}.end`] = '';
  }
  return { ...fields, ...values };
}

/** The input with this id, as markup (its value and aria attributes). */
const input = (page: string, id: string) => {
  const match = new RegExp(`<input id="${id}"[^>]*>`).exec(page);
  if (!match) throw new Error(`no input #${id}`);
  return match[0];
};
/** The error message shown for the input (or group) with this id. */
const errorOf = (page: string, id: string) =>
  new RegExp(`<p class="error" id="${id}-error">([^<]*)</p>`).exec(page)?.[1] ?? null;

describe('schedule page', () => {
  it('saves weekly hours and an unavailable date in the chosen zone, exactly as the API reads them', async () => {
    const user = await platform.createUser({ timeZone: 'Europe/Berlin' });
    const client = await signedInClient(platform, user.id);
    const shown = await client.get('/console/schedule');
    expect(shown.status).toBe(200);
    // The default schedule, in the user's zone.
    expect(input(shown.text, 'f-timeZone')).toContain('value="Europe/Berlin"');
    expect(input(shown.text, 'f-fri-0-start')).toContain('value="09:00"');

    const saved = await client.post(
      '/console/schedule',
      scheduleForm({
        timeZone: 'Europe/Paris',
        'mon.0.start': '09:00',
        'mon.0.end': '12:00',
        'mon.1.start': '13:00',
        'mon.1.end': '17:00',
        'new.0.date': '2030-12-24',
        'new.0.closed': 'yes',
      }),
    );
    expect(saved.status).toBe(303);
    expect(saved.location).toBe('/console/schedule?done=saved');

    const api = await platform.request('GET', '/v1/me/schedule', { token: user.token });
    expect(api.body).toEqual({
      timeZone: 'Europe/Paris',
      weekly: {
        mon: [
          { start: '09:00', end: '12:00' },
          { start: '13:00', end: '17:00' },
        ],
        tue: [],
        wed: [],
        thu: [],
        fri: [],
        sat: [],
        sun: [],
      },
      overrides: [{ date: '2030-12-24', intervals: [] }],
    });

    const after = await client.get('/console/schedule?done=saved');
    expect(after.text).toContain('class="flash" role="status"');
    expect(input(after.text, 'f-mon-1-end')).toContain('value="17:00"');
    expect(input(after.text, 'f-fri-0-start')).toContain('value=""');
    expect(after.text).toContain('Tue 24 Dec 2030');
    expect(after.text).toContain('Unavailable all day');
  });

  it('removes a saved override, takes 00:00 as the end of the day, and merges rows with one date', async () => {
    const user = await platform.createUser({ timeZone: 'UTC' });
    const client = await signedInClient(platform, user.id);
    await client.get('/console/schedule');
    await client.post(
      '/console/schedule',
      scheduleForm({ 'new.0.date': '2031-01-02', 'new.0.start': '10:00', 'new.0.end': '11:00' }),
    );
    await client.get('/console/schedule');
    const saved = await client.post(
      '/console/schedule',
      scheduleForm({
        'sat.0.start': '20:00',
        'sat.0.end': '00:00',
        remove: '2031-01-02',
        'new.0.date': '2031-01-05',
        'new.0.start': '14:00',
        'new.0.end': '15:00',
        'new.1.date': '2031-01-05',
        'new.1.start': '08:00',
        'new.1.end': '09:00',
      }),
    );
    expect(saved.status).toBe(303);
    const api = (await platform.request('GET', '/v1/me/schedule', { token: user.token })).body;
    expect(api.weekly.sat).toEqual([{ start: '20:00', end: '24:00' }]);
    expect(api.weekly.mon).toEqual([]);
    expect(api.overrides).toEqual([
      {
        date: '2031-01-05',
        // Merged from two rows, saved in order.
        intervals: [
          { start: '08:00', end: '09:00' },
          { start: '14:00', end: '15:00' },
        ],
      },
    ]);
    // 24:00 is shown as the 00:00 a time input can hold.
    expect(input((await client.get('/console/schedule')).text, 'f-sat-0-end')).toContain('value="00:00"');
  });

  it('answers bad input with 422, each error at its input, the values kept and nothing saved', async () => {
    const user = await platform.createUser({ timeZone: 'Europe/Berlin' });
    const client = await signedInClient(platform, user.id);
    await client.get('/console/schedule');
    await client.post(
      '/console/schedule',
      scheduleForm({ 'new.0.date': '2030-06-01', 'new.0.closed': 'yes' }),
    );
    const before = (await platform.request('GET', '/v1/me/schedule', { token: user.token })).body;
    await client.get('/console/schedule');

    const bad = await client.post(
      '/console/schedule',
      scheduleForm({
        timeZone: 'Mars/Olympus_Mons',
        // Row 1 empty: the error must still land on row 2's end.
        'mon.1.start': '10:00',
        'mon.1.end': '09:30',
        'tue.0.start': '09:00',
        'tue.0.end': '12:00',
        'tue.2.start': '11:00',
        'tue.2.end': '13:00',
        'wed.0.start': '09:00',
        'wed.0.end': '17:00',
        'new.1.date': '2030-07-01',
        'new.1.start': '12:00',
        'new.1.end': '11:00',
        'new.2.date': '2030-06-01',
        'new.2.closed': 'yes',
      }),
    );
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('role="alert"');
    expect(errorOf(bad.text, 'f-timeZone')).toMatch(/IANA time zone/);
    expect(input(bad.text, 'f-timeZone')).toContain('value="Mars/Olympus_Mons"');
    expect(input(bad.text, 'f-timeZone')).toContain('aria-invalid="true"');

    expect(errorOf(bad.text, 'f-mon-1-end')).toBe('Start must be before end.');
    expect(input(bad.text, 'f-mon-1-end')).toMatch(/value="09:30"[\s\S]*aria-invalid="true"/);
    expect(errorOf(bad.text, 'f-mon-0-end')).toBeNull();

    expect(errorOf(bad.text, 'f-tue')).toBe('Intervals must not overlap.');
    expect(input(bad.text, 'f-tue-2-start')).toContain('value="11:00"');
    expect(errorOf(bad.text, 'f-wed-0-end')).toBeNull();
    expect(input(bad.text, 'f-wed-0-end')).toContain('value="17:00"');

    expect(errorOf(bad.text, 'f-new-1-end')).toBe('Start must be before end.');
    expect(input(bad.text, 'f-new-1-date')).toContain('value="2030-07-01"');
    expect(errorOf(bad.text, 'f-new-2-date')).toMatch(/already has an override/);
    expect(bad.text).toMatch(/id="f-new-2-closed" name="new.2.closed" value="yes"\s+checked/);

    const notSaved = (await platform.request('GET', '/v1/me/schedule', { token: user.token })).body;
    expect(notSaved).toEqual(before);
  });

  it('refuses a form without the CSRF token, and sends a visitor to sign in', async () => {
    const user = await platform.createUser();
    const client = await signedInClient(platform, user.id);
    await client.get('/console/schedule');
    const before = (await platform.request('GET', '/v1/me/schedule', { token: user.token })).body;
    const forged = await client.post('/console/schedule', scheduleForm({ timeZone: 'Asia/Tokyo' }), {
      csrf: null,
    });
    expect(forged.status).toBe(403);
    expect((await platform.request('GET', '/v1/me/schedule', { token: user.token })).body).toEqual(before);

    const visitor = await fetch(`${platform.apiUrl}/console/schedule`, { redirect: 'manual' });
    expect(visitor.status).toBe(303);
    expect(visitor.headers.get('location')).toBe('/sign-in?next=%2Fconsole%2Fschedule');
  });
});
