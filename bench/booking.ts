/**
 * Availability and booking, measured through the real stack: PostgreSQL, a Temporal dev server,
 * the worker and the API each in its own process (as `npm start` runs them), Radicale as the host's
 * primary calendar, and an SMTP sink and the load's HTTP client in this process.
 *
 * - slots: one host, 30 days densely busy with 5,000 imported events across 3 calendars: server time
 *   (bookings/slots.ts alone) and HTTP time, p50/p95 over 200 requests.
 * - booking (in the free month after): HTTP 201 latency p50/p95 over 100 bookings, 10 a second; hold → invite written in
 *   Radicale → e-mails handed to SMTP, p50/p95 (from the rows' timestamps); sustained bookings per
 *   second over distinct slots with 16 concurrent clients, and the CPU each booking costs each process.
 * Prints one JSON object. NODE_OPTIONS='--cpu-prof --cpu-prof-dir=DIR' profiles every Node process.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findBookingCalendar } from '../bookings/booking-calendars.ts';
import { bookableSlots } from '../bookings/slots.ts';
import { loadConfig } from '../platform/config.ts';
import { startRadicale } from '../test/support/radicale.ts';
import { startSmtpSink } from '../test/support/smtp-sink.ts';
import { freePort } from '../worker/local/ports.ts';
import { startTemporalDevServer } from '../worker/local/temporal-dev-server.ts';
import { resolveTemporalCli } from '../worker/local/tools.ts';
import { benchDatabase, benchEnv, cpuByProcess, cpuMsPer, round, startNodeProcess } from './support.ts';

const DAY = 86_400_000;
const LATENCY_PACE_MS = 100;
const ALWAYS = Object.fromEntries(
  ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [{ start: '00:00', end: '24:00' }]]),
);

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const stats = (values: number[]) => ({
  p50: round(percentile(values, 50)),
  p95: round(percentile(values, 95)),
});

export async function benchBooking() {
  const db = await benchDatabase();
  const smtp = await startSmtpSink({ keep: false });
  const radicale = await startRadicale({ users: [{ username: 'benchhost', password: 'bench-pw' }] });
  const temporal = await startTemporalDevServer({
    cliPath: await resolveTemporalCli(),
    port: await freePort(),
    uiPort: null,
    dbFile: null,
    namespace: 'default',
  });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'calbridge-bench-booking-'));
  const apiPort = await freePort();
  const env = {
    ...benchEnv({
      dataDir,
      databaseUrl: db.config.DATABASE_URL as string,
      temporalAddress: temporal.address,
      taskQueue: 'bench-booking',
    }),
    SMTP_URL: smtp.url,
    CALDAV_POLL_SECONDS: '3600',
    PUBLIC_RATE_LIMIT_PER_MINUTE: '1000000',
    BOOKING_RATE_LIMIT_PER_MINUTE: '1000000',
    HOST: '127.0.0.1',
    PORT: String(apiPort),
    PUBLIC_URL: `http://127.0.0.1:${apiPort}`,
  };
  const config = loadConfig(env, { generateSecrets: false });
  // The worker and the API run as `npm start` runs them: each its own process.
  const worker = await startNodeProcess('worker/main.ts', env);
  const apiProcess = await startNodeProcess('api/main.ts', env);
  const api = { url: config.PUBLIC_URL };
  const call = async (method: string, url: string, body?: unknown, token?: string) => {
    const res = await fetch(`${api.url}${url}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: the bench reads JSON answers loosely
    return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, any> };
  };
  try {
    const host = await call(
      'POST',
      '/v1/users',
      { email: 'bench-host@example.com', name: 'Bench Host', timeZone: 'UTC' },
      config.ADMIN_TOKEN,
    );
    const token = host.body.apiToken as string;
    await call('PUT', '/v1/me/schedule', { timeZone: 'UTC', weekly: ALWAYS, overrides: [] }, token);
    await radicale.createCalendar('benchhost', 'bench-pw', 'work', { displayName: 'Work' });
    const linked = await call(
      'POST',
      '/v1/connections',
      { provider: 'caldav', serverUrl: radicale.url, username: 'benchhost', password: 'bench-pw' },
      token,
    );
    const work = linked.body.calendars.find((c: { name: string }) => c.name === 'Work');
    await call(
      'PUT',
      `/v1/connections/${linked.body.id}/calendars`,
      { calendars: [{ id: work.id, importForAvailability: true }], primaryCalendarId: work.id },
      token,
    );
    for (let i = 0; i < 200; i++) {
      const c = await call('GET', `/v1/connections/${linked.body.id}`, undefined, token);
      if (c.body.status === 'active') break;
      await new Promise((r) => setTimeout(r, 100));
    }

    // 5,000 imported busy events across 3 calendars over the next 30 days.
    const em = db.orm.em.fork();
    const calendars = [randomUUID(), randomUUID(), randomUUID()];
    for (const [i, id] of calendars.entries()) {
      await em.execute(
        `insert into provider_calendars (id, connection_id, user_id, external_id, name, import_for_availability, import_status)
         values (?, ?, 'bench-host@example.com', ?, ?, true, 'ready')`,
        [id, linked.body.id, `bench-${i}`, `Busy ${i}`],
      );
    }
    const now = Date.now();
    await em.execute(
      `insert into imported_events (id, calendar_id, user_id, object_key, occurrence_key, uid, start_at, end_at, all_day, busy, status)
       select gen_random_uuid(), (array[?::uuid, ?::uuid, ?::uuid])[1 + i % 3], 'bench-host@example.com', 'o' || i, '', 'u' || i,
              to_timestamp(? / 1000.0) + (i * interval '518 seconds'),
              to_timestamp(? / 1000.0) + (i * interval '518 seconds') + interval '20 minutes', false, true, 'confirmed'
         from generate_series(0, 4999) as i`,
      [...calendars, now, now],
    );
    await em.execute('analyze imported_events');

    const slug = 'bench';
    const createdCalendar = await call(
      'POST',
      '/v1/booking-calendars',
      { slug, name: 'Bench', type: 'simple', hosts: ['bench-host@example.com'], durationMinutes: 15 },
      token,
    );
    if (createdCalendar.status !== 201)
      throw new Error(`booking calendar: ${JSON.stringify(createdCalendar.body)}`);
    const from = new Date(now);
    const to = new Date(now + 30 * DAY);
    const calendar = await findBookingCalendar(db.orm.em.fork(), slug);
    const server: number[] = [];
    const http: number[] = [];
    let slotCount = 0;
    for (let i = 0; i < 200; i++) {
      let t = performance.now();
      const view = await bookableSlots(db.orm.em.fork(), calendar, {
        from,
        to,
        timeZone: 'UTC',
        now: new Date(),
      });
      server.push(performance.now() - t);
      slotCount = view.slots.length;
      t = performance.now();
      const res = await call(
        'GET',
        `/v1/booking-calendars/${slug}/slots?from=${from.toISOString()}&to=${to.toISOString()}`,
      );
      http.push(performance.now() - t);
      if (res.status !== 200) throw new Error(`slots answered ${res.status}`);
    }

    // Sequential bookings in the free month after: HTTP latency, then hold → invite → e-mails.
    const free = new Date(now + 31 * DAY);
    const slotsRes = await call(
      'GET',
      `/v1/booking-calendars/${slug}/slots?from=${free.toISOString()}&to=${new Date(free.getTime() + 30 * DAY).toISOString()}`,
    );
    const starts = ((slotsRes.body.slots ?? []) as { start: string }[]).map((s) => s.start);
    if (starts.length < 500)
      throw new Error(`only ${starts.length} free slots: ${JSON.stringify(slotsRes.body).slice(0, 300)}`);
    const created: number[] = [];
    const ids: string[] = [];
    // Latency at a stated load: one booking every LATENCY_PACE_MS (sequential; a slower answer
    // delays the next). Back to back, 201s would outrun the invites and e-mails behind them and the
    // pipeline figure would measure a growing queue (throughput is the sustained phase's figure).
    const paced = performance.now();
    for (let i = 0; i < 100; i++) {
      const wait = paced + i * LATENCY_PACE_MS - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const t = performance.now();
      const res = await call('POST', `/v1/booking-calendars/${slug}/bookings`, {
        start: starts[i],
        attendee: { name: `Customer ${i}`, email: `c${i}@example.com` },
      });
      created.push(performance.now() - t);
      if (res.status !== 201) throw new Error(`booking answered ${res.status} ${JSON.stringify(res.body)}`);
      ids.push(res.body.id);
    }
    const pipeline = await pipelinesOf(ids);
    const endToEnd = pipeline.map((r) => Math.max(Number(r.invite_ms), Number(r.mail_ms)));

    // Sustained: 16 clients, 400 bookings over distinct slots; then the CPU each booking cost every
    // process until its invite and e-mails were out.
    const rest = starts.slice(100, 500);
    let next = 0;
    const sustained: string[] = [];
    const cpuBefore = cpuByProcess(db.name);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < rest.length) {
          const start = rest[next++]!;
          const res = await call('POST', `/v1/booking-calendars/${slug}/bookings`, {
            start,
            attendee: { name: 'Load', email: 'load@example.com' },
          });
          if (res.status === 201) sustained.push(res.body.id);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const drained = await pipelinesOf(sustained);
    const drainSeconds = (performance.now() - t0) / 1000;
    const cpuMsPerBooking = cpuMsPer(cpuBefore, cpuByProcess(db.name), sustained.length);
    return {
      slots_server_ms: stats(server),
      slots_http_ms: stats(http),
      slots_offered: slotCount,
      busy_events: 5000,
      booking_http_201_ms: stats(created),
      booking_latency_offered_per_s: 1000 / LATENCY_PACE_MS,
      booking_hold_to_invite_and_emails_ms: stats(endToEnd),
      booking_pipelines_measured: endToEnd.length,
      sustained_bookings_per_s: round(sustained.length / seconds),
      sustained_bookings: sustained.length,
      sustained_pipelines_done: drained.length,
      sustained_done_with_invites_and_emails_per_s: round(drained.length / drainSeconds),
      sustained_cpu_ms_per_booking: cpuMsPerBooking,
    };
  } finally {
    await apiProcess.stop();
    await worker.stop();
    await temporal.stop();
    await radicale.stop();
    await smtp.stop();
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  /** Each booking's hold → invite written and hold → both e-mails sent, once all are done (or 120 s). */
  async function pipelinesOf(ids: string[]) {
    const deadline = Date.now() + 120_000;
    let pipeline: { invite_ms: number; mail_ms: number }[] = [];
    while (Date.now() < deadline) {
      pipeline = await db.orm.em.fork().execute(
        `select extract(epoch from (i.updated_at - a.created_at)) * 1000 as invite_ms,
                (select extract(epoch from (max(o.sent_at) - a.created_at)) * 1000 from email_outbox o
                  where o.dedupe_key like 'booking:' || a.id || ':confirmed:%' and o.status = 'sent'
                  having count(*) = 2) as mail_ms
           from appointments a join appointment_invites i on i.appointment_id = a.id
          where a.id = any(?::uuid[]) and i.status = 'written'`,
        [`{${ids.join(',')}}`],
      );
      if (pipeline.length === ids.length && pipeline.every((r) => r.mail_ms !== null)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    return pipeline.filter((r) => r.mail_ms !== null);
  }
}
