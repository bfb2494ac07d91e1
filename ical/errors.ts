/** The one failure of this library: the text is not iCalendar we can read. Adapters map it to their own error type. */
export class ICalendarError extends Error {
  override readonly name = 'ICalendarError';
}
