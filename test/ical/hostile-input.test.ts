/**
 * Hostile provider bytes must cost time linear in their size. Each case runs in a worker thread
 * that is terminated at its deadline, so a pattern that backtracks exponentially fails the test
 * instead of hanging the run.
 */
import { describe, expect, it } from 'vitest';
import { MAX_CONTENT_LINE_LENGTH } from '../../ical/limits.ts';
import { runWithDeadline } from './support/deadline.ts';
import type { FeedSummary } from './support/ical-worker.ts';

/** Wall time before the worker is killed: generous for a loaded 2-core machine. The assertions are on CPU time. */
const DEADLINE_MS = 10_000;
const WINDOW = { start: '2025-03-01T00:00:00Z', end: '2025-04-01T00:00:00Z' };

function cal(...lines: string[]): string {
  return `${['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Calbridge//Tests//EN', ...lines, 'END:VCALENDAR'].join('\r\n')}\r\n`;
}

function vevent(uid: string, ...lines: string[]): string[] {
  return [
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20250101T000000Z',
    'DTSTART:20250305T100000Z',
    ...lines,
    'END:VEVENT',
  ];
}

/** Parameter values that a regex with nested, overlapping repetition explores in 2^n ways. */
const HOSTILE_LINES: Record<string, string> = {
  'commas then a stray quote': `X-HOSTILE;A=${','.repeat(64)}"`,
  'values and commas, no colon': `DTSTART;TZID=${'a,'.repeat(64)}"`,
  'quoted values then garbage': `X-HOSTILE;A=${'"x",'.repeat(64)}"`,
  'many parameters, no colon': `X-HOSTILE${';A=b,'.repeat(20_000)}`,
  'unterminated quote': `X-HOSTILE;A="${'a'.repeat(100_000)}`,
};

describe('hostile content lines, each in a worker killed at the deadline', () => {
  for (const [name, line] of Object.entries(HOSTILE_LINES)) {
    it(`parses "${name}" (${line.length} bytes) in linear time`, async () => {
      const { cpuMs, result } = await runWithDeadline({ op: 'parseContentLine', line }, DEADLINE_MS);
      expect(result).toBeNull();
      expect(cpuMs).toBeLessThan(1_000);
    });
  }

  it('a 170-byte feed with such a line in an event imports the rest at once', async () => {
    const text = cal(...vevent('hostile@test', `X-HOSTILE;A=${','.repeat(64)}"`), ...vevent('fine@test'));
    expect(text.length).toBeLessThan(400);
    const { cpuMs, result } = await runWithDeadline(
      { op: 'parseICalendarFeed', text, window: WINDOW },
      DEADLINE_MS,
    );
    expect((result as FeedSummary).objects).toEqual({ 'hostile@test': 1, 'fine@test': 1 });
    expect(cpuMs).toBeLessThan(1_000);
  });

  it('the same line among calendar properties and inside a VTIMEZONE', async () => {
    const line = `X-HOSTILE;A=${','.repeat(64)}"`;
    const text = cal(
      line,
      'BEGIN:VTIMEZONE',
      'TZID:Office',
      line,
      'BEGIN:STANDARD',
      line,
      'DTSTART:19700101T000000',
      'TZOFFSETFROM:+0100',
      'TZOFFSETTO:+0100',
      'END:STANDARD',
      'END:VTIMEZONE',
      ...vevent('fine@test'),
    );
    const { cpuMs, result } = await runWithDeadline(
      { op: 'parseICalendarFeed', text, window: WINDOW },
      DEADLINE_MS,
    );
    expect((result as FeedSummary).objects).toEqual({ 'fine@test': 1 });
    expect(cpuMs).toBeLessThan(1_000);
  });
});

describe('content lines over the length cap', () => {
  it('skips and reports the event holding a line over the cap (after unfolding), and imports the rest', async () => {
    // Folded into 75-octet lines, as a producer would: the cap applies to the unfolded line.
    const long = `DESCRIPTION:${'x'.repeat(MAX_CONTENT_LINE_LENGTH)}`;
    const folded = long.match(/.{1,74}/g)?.join('\r\n ') ?? '';
    const text = cal(...vevent('long@test', folded), ...vevent('fine@test'));
    const { cpuMs, result } = await runWithDeadline(
      { op: 'parseICalendarFeed', text, window: WINDOW },
      DEADLINE_MS,
    );
    const { objects, problems } = result as FeedSummary;
    expect(objects).toEqual({ 'long@test': 0, 'fine@test': 1 });
    expect(problems).toEqual([
      { uid: 'long@test', kind: 'unreadable', message: expect.stringMatching(/longer than/) },
    ]);
    expect(cpuMs).toBeLessThan(1_000);
  });

  it('reads a line of exactly the cap', async () => {
    const summary = `SUMMARY:${'x'.repeat(MAX_CONTENT_LINE_LENGTH - 'SUMMARY:'.length)}`;
    const text = cal(...vevent('max@test', summary));
    const { result } = await runWithDeadline({ op: 'parseICalendarFeed', text, window: WINDOW }, DEADLINE_MS);
    const { objects, problems } = result as FeedSummary;
    expect(objects).toEqual({ 'max@test': 1 });
    expect(problems).toEqual([]);
  });

  it('survives a feed that is one 8 MiB line', async () => {
    const text = `BEGIN:VCALENDAR\r\nX-JUNK:${'y'.repeat(8 * 1024 * 1024)}\r\n${vevent('fine@test').join('\r\n')}\r\nEND:VCALENDAR\r\n`;
    const { cpuMs, result } = await runWithDeadline(
      { op: 'parseICalendarFeed', text, window: WINDOW },
      DEADLINE_MS,
    );
    const { objects, problems } = result as FeedSummary;
    expect(objects).toEqual({ 'fine@test': 1 });
    expect(problems).toEqual([
      { uid: null, kind: 'unreadable', message: expect.stringMatching(/longer than/) },
    ]);
    expect(cpuMs).toBeLessThan(1_000);
  });
});
