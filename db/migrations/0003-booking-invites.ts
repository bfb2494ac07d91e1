import { Migration } from '@mikro-orm/migrations';

/**
 * Booking: where each host's invite lives on the provider (one row per appointment and host, so
 * team bookings carry several), and what a cancellation records. The appointment's `sequence` is
 * the iTIP SEQUENCE every invite and e-mail of it carries. E-mails gain an HTML part.
 */
export class Migration0003BookingInvites extends Migration {
  override up(): void {
    this.addSql(`
      create table appointment_invites (
        appointment_id uuid not null references appointments(id) on delete cascade deferrable initially deferred,
        user_id text not null references users(id) on delete cascade deferrable initially deferred,
        status text not null default 'pending' check (status in ('pending', 'written', 'skipped', 'failed')),
        calendar_id uuid references provider_calendars(id) on delete set null deferrable initially deferred,
        external_id text,
        etag text,
        written_sequence integer,
        error text,
        updated_at timestamptz not null default now(),
        primary key (appointment_id, user_id)
      );`);
    this.addSql('alter table email_outbox add column html_body text;');
    this.addSql('alter table appointments add column cancelled_at timestamptz;');
    this.addSql('alter table appointments add column cancel_reason text;');
    this.addSql('create index appointments_booking_calendar_idx on appointments(booking_calendar_id);');
    this.addSql('create index one_time_links_calendar_idx on one_time_links(booking_calendar_id);');
    this.addSql('create index booking_calendar_hosts_user_idx on booking_calendar_hosts(user_id);');
  }

  override down(): void {
    this.addSql('drop table if exists appointment_invites;');
    this.addSql('alter table email_outbox drop column if exists html_body;');
    this.addSql('alter table appointments drop column if exists cancelled_at;');
    this.addSql('alter table appointments drop column if exists cancel_reason;');
    this.addSql('drop index if exists appointments_booking_calendar_idx;');
    this.addSql('drop index if exists one_time_links_calendar_idx;');
    this.addSql('drop index if exists booking_calendar_hosts_user_idx;');
  }
}
