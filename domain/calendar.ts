/** Time and events as every layer sees them, independent of any provider's wire format. */

/** A half-open UTC interval [start, end). */
export interface TimeWindow {
  start: Date;
  end: Date;
}

/**
 * One concrete occurrence of an event, already normalised: recurring series are expanded inside the
 * sync window (EXDATE and RECURRENCE-ID overrides applied), cancelled instances dropped, times in UTC.
 */
export interface Occurrence {
  /** Stable within its source object: '' for a single event, else the occurrence's original start (ISO, UTC). */
  occurrenceKey: string;
  uid: string;
  start: Date;
  end: Date;
  allDay: boolean;
  /** false for TRANSP:TRANSPARENT / "free" events. */
  busy: boolean;
  status: 'confirmed' | 'tentative';
  title: string | null;
  /** Set when the event is one we wrote ourselves (invariant 4: no echo). */
  calbridgeId: string | null;
}

/** An event we write to a provider calendar. `id` is our id: the provider identity is derived from it. */
export interface OutboundEvent {
  id: string;
  title: string;
  description?: string;
  start: Date;
  end: Date;
  /** IANA zone used for display in the provider. */
  timeZone: string;
  location?: string;
  organizer?: { name?: string; email: string };
  attendees?: { name?: string; email: string }[];
  /** Raised by the caller on every change (iTIP). */
  sequence: number;
}
