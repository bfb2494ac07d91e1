/** Child of expand-in-zone.ts: one parseICalendarFeed call, request on stdin, summary on stdout. */
import { text } from 'node:stream/consumers';
import { parseICalendarFeed } from '../../../ical/normalize.ts';

const request = JSON.parse(await text(process.stdin)) as {
  text: string;
  window: { start: string; end: string };
  options?: { floatingTimeZone?: string };
};
const feed = parseICalendarFeed(
  request.text,
  { start: new Date(request.window.start), end: new Date(request.window.end) },
  request.options,
);
const starts: Record<string, string[]> = {};
for (const [uid, object] of feed.objects) starts[uid] = object.occurrences.map((o) => o.start.toISOString());
process.stdout.write(
  JSON.stringify({ starts, floatingTimeZone: feed.floatingTimeZone, problems: feed.problems }),
);
