export {
  Appointment,
  AppointmentHost,
  AppointmentInvite,
  BookingCalendar,
  BookingCalendarHost,
  OneTimeLink,
} from './booking.ts';
export { CalendarConnection, ImportedEvent, ProviderCalendar } from './connection.ts';
export { EmailOutbox } from './email.ts';
export { ApiToken, Schedule, User } from './user.ts';
