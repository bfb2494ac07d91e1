/**
 * One CalDAV resource as a SourceObject: its iCalendar data expanded in the window, and the version
 * tag that lets a consumer skip it next time.
 *
 * Version tags: an object's occurrences depend on the window as well as on its data. The `etag` we
 * hand out is the server's ETag for a plain event inside the window (its one occurrence is the same
 * in any window it is listed for), and the ETag tagged with the window for anything else (series,
 * events outside the window, unreadable data) — so a consumer that re-lists with a moved window gets
 * series re-expanded and newly covered events imported, while plain events stay "unchanged".
 */
import type { Occurrence, TimeWindow } from '../../domain/calendar.ts';
import { ICalendarError } from '../../ical/errors.ts';
import { parseICalendarFeed } from '../../ical/normalize.ts';
import type { SourceObject } from '../contract.ts';

/** One object of a listing; `data` when the listing carried its calendar-data. */
export interface Listed {
  key: string;
  etag: string | null;
  data: string | null;
}

/** Hrefs compare decoded, so a server's percent-encoding choices do not reorder a listing. */
export function comparable(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

export function sourceObject(
  key: string,
  davEtag: string | null,
  data: string,
  window: TimeWindow,
  floatingTimeZone?: string,
): SourceObject {
  let occurrences: Occurrence[] = [];
  let warnings: SourceObject['warnings'] = [];
  try {
    const parsed = parseICalendarFeed(data, window, { floatingTimeZone });
    occurrences = [...parsed.objects.values()].flatMap((o) => o.occurrences);
    warnings = parsed.problems.map((p) => ({ kind: p.kind, message: p.message }));
  } catch (error) {
    // One unreadable resource must not stop the calendar's sync; it imports as nothing (and says
    // so), and its window-tagged version makes the next listing with another window try it again.
    if (!(error instanceof ICalendarError)) throw error;
    warnings = [{ kind: 'unreadable', message: error.message.slice(0, 200) }];
  }
  return {
    key,
    etag: versionTag(davEtag, occurrences, window),
    occurrences,
    ...(warnings.length ? { warnings } : {}),
  };
}

/** See the file comment: the plain ETag only where the expansion cannot depend on the window. */
function versionTag(davEtag: string | null, occurrences: Occurrence[], window: TimeWindow): string | null {
  if (davEtag === null) return null;
  const windowIndependent = occurrences.length > 0 && occurrences.every((o) => o.occurrenceKey === '');
  return windowIndependent ? davEtag : windowedTag(davEtag, window);
}

function windowedTag(davEtag: string, window: TimeWindow): string {
  return `${davEtag};window=${window.start.toISOString()}/${window.end.toISOString()}`;
}

export function holdsCurrent(
  known: ReadonlyMap<string, string | null>,
  item: Listed,
  window: TimeWindow,
): boolean {
  if (item.etag === null) return false;
  const held = known.get(item.key);
  return held === item.etag || held === windowedTag(item.etag, window);
}
