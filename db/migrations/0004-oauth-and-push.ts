import { Migration } from '@mikro-orm/migrations';

/**
 * OAuth providers (Google, Microsoft): the single-use `state` of each consent round trip, and the
 * push channels (Google watch channels, Graph subscriptions) that tell us a calendar changed.
 */
export class Migration0004OauthAndPush extends Migration {
  override up(): void {
    this.addSql(`
      create table oauth_states (
        -- SHA-256 of the state sent to the provider: the state itself is never stored.
        state_hash text primary key,
        connection_id uuid not null references calendar_connections(id) on delete cascade deferrable initially deferred,
        user_id text not null references users(id) on delete cascade deferrable initially deferred,
        provider text not null check (provider in ('google', 'microsoft')),
        purpose text not null check (purpose in ('link', 'reconnect')),
        -- The PKCE verifier, AES-256-GCM sealed and bound to this row's state hash.
        code_verifier bytea not null,
        redirect_uri text,
        expires_at timestamptz not null,
        created_at timestamptz not null default now()
      );`);
    this.addSql('create index oauth_states_connection_idx on oauth_states(connection_id);');
    this.addSql('create index oauth_states_expires_idx on oauth_states(expires_at);');

    this.addSql(`
      create table push_channels (
        id uuid primary key,
        connection_id uuid not null references calendar_connections(id) on delete cascade deferrable initially deferred,
        calendar_id uuid not null references provider_calendars(id) on delete cascade deferrable initially deferred,
        provider text not null check (provider in ('google', 'microsoft')),
        -- Google channel id / Graph subscription id: what a notification names.
        channel_id text not null unique,
        resource_id text,
        -- SHA-256 of the channel token / clientState a genuine notification carries.
        token_hash text not null,
        expires_at timestamptz not null,
        created_at timestamptz not null default now()
      );`);
    this.addSql('create index push_channels_connection_idx on push_channels(connection_id);');
    this.addSql('create unique index push_channels_one_per_calendar on push_channels(calendar_id);');
  }

  override down(): void {
    this.addSql('drop table if exists push_channels;');
    this.addSql('drop table if exists oauth_states;');
  }
}
