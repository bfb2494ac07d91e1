// TEMPORARY placeholder written by the lead so other modules can load; the CalDAV engineer replaces this whole file.
import type { CalendarProvider, ProviderConnection, ProviderContext } from '../types.ts';
export function createCalDavProvider(_c: ProviderConnection, _x: ProviderContext): CalendarProvider {
  throw new Error('not yet');
}
