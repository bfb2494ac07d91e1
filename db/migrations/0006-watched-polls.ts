import { Migration } from '@mikro-orm/migrations';

/**
 * Watched polls: a connection whose provider can answer "unchanged" cheaply (ICS) is polled by the
 * worker's poll loop (connections/watched-polls.ts) instead of by a timer in its run; `next_poll_at`
 * says when, and is null for every connection whose run polls for itself; `poll_seconds` is the
 * interval its run was started with.
 */
export class Migration0006WatchedPolls extends Migration {
  override up(): void {
    this.addSql(
      'alter table calendar_connections add column next_poll_at timestamptz, add column poll_seconds integer;',
    );
    this.addSql(
      'create index calendar_connections_next_poll_idx on calendar_connections(next_poll_at) where next_poll_at is not null;',
    );
  }

  override down(): void {
    this.addSql('drop index calendar_connections_next_poll_idx;');
    this.addSql('alter table calendar_connections drop column next_poll_at, drop column poll_seconds;');
  }
}
