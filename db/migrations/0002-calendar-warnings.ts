import { Migration } from '@mikro-orm/migrations';

/**
 * Per-calendar warnings: the objects a sync skipped or imported in part (unreadable, truncated,
 * unexpandable, refused by the database), so one bad object is reported instead of failing the
 * calendar or vanishing silently.
 */
export class Migration0002CalendarWarnings extends Migration {
  override up(): void {
    this.addSql(`alter table provider_calendars add column warnings jsonb not null default '[]'
      check (jsonb_typeof(warnings) = 'array');`);
  }

  override down(): void {
    this.addSql('alter table provider_calendars drop column if exists warnings;');
  }
}
