import { Migration } from '@mikro-orm/migrations';

/**
 * The initial schema. Foreign keys are checked at commit (deferrable initially deferred): the ORM's
 * unit of work may insert rows in any order inside a transaction.
 * Written in SQL because it leans on PostgreSQL features the ORM does not model:
 * btree_gist, generated tstzrange columns, GiST indexes and the EXCLUDE constraint that makes double
 * booking impossible (docs/ARCHITECTURE.md, invariant 1).
 */
export class Migration0001Initial extends Migration {
  override up(): void {
    this.addSql('create extension if not exists btree_gist;');

    this.addSql(`
      create table users (
        id text primary key check (id = lower(id)),
        email text not null unique,
        name text not null,
        time_zone text not null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );`);

    this.addSql(`
      create table api_tokens (
        id uuid primary key,
        user_id text not null references users(id) on delete cascade deferrable initially deferred,
        token_hash text not null unique,
        created_at timestamptz not null default now(),
        last_used_at timestamptz
      );`);
    this.addSql('create index api_tokens_user_idx on api_tokens(user_id);');

    this.addSql(`
      create table schedules (
        user_id text primary key references users(id) on delete cascade deferrable initially deferred,
        time_zone text not null,
        weekly jsonb not null,
        overrides jsonb not null default '[]',
        updated_at timestamptz not null default now()
      );`);

    this.addSql(`
      create table calendar_connections (
        id uuid primary key,
        user_id text not null references users(id) on delete cascade deferrable initially deferred,
        provider text not null check (provider in ('google', 'microsoft', 'icloud', 'caldav', 'ics')),
        account_email text,
        -- SHA-256 of the provider account's identity (server + login, or feed URL): one link per account.
        account_identity text not null,
        server_url text,
        status text not null check (status in ('pending_authorization', 'awaiting_selection', 'importing',
          'active', 'needs_reauth', 'error', 'removing', 'removed')),
        status_reason text,
        sync_direction text not null default 'both' check (sync_direction in ('both', 'inbound', 'outbound')),
        credentials bytea,
        credentials_version integer not null default 1,
        workflow_id text not null,
        last_sync_at timestamptz,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        version integer not null default 1
      );`);
    this.addSql('create index calendar_connections_user_idx on calendar_connections(user_id);');
    this.addSql(`create unique index calendar_connections_one_link_per_account
      on calendar_connections(user_id, provider, account_identity) where status <> 'removed';`);

    this.addSql(`
      create table provider_calendars (
        id uuid primary key,
        connection_id uuid not null references calendar_connections(id) on delete cascade deferrable initially deferred,
        user_id text not null references users(id) on delete cascade deferrable initially deferred,
        external_id text not null,
        name text not null,
        color text,
        read_only boolean not null default false,
        provider_primary boolean not null default false,
        import_for_availability boolean not null default false,
        is_primary boolean not null default false,
        import_status text not null default 'idle'
          check (import_status in ('idle', 'pending', 'importing', 'ready', 'error')),
        error text,
        event_count integer not null default 0,
        last_synced_at timestamptz,
        sync_cursor jsonb,
        full_sync_generation integer not null default 0,
        window_start timestamptz,
        window_end timestamptz,
        removed_at timestamptz,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        unique (connection_id, external_id),
        check (not (is_primary and read_only))
      );`);
    // "A user has at most one primary calendar across all connections."
    this.addSql(
      'create unique index provider_calendars_one_primary on provider_calendars(user_id) where is_primary;',
    );

    // Provider-side objects we hold (a CalDAV resource, an ICS UID, a Google event...) and the
    // generation of the last full sync that saw them: a full sync sweeps away older generations.
    this.addSql(`
      create table synced_objects (
        calendar_id uuid not null references provider_calendars(id) on delete cascade deferrable initially deferred,
        key text not null,
        etag text,
        -- The import window the object was last expanded for: its etag only proves "unchanged" within that window.
        window_start timestamptz,
        seen_generation integer not null,
        primary key (calendar_id, key)
      );`);

    this.addSql(`
      create table imported_events (
        id uuid primary key,
        calendar_id uuid not null references provider_calendars(id) on delete cascade deferrable initially deferred,
        user_id text not null references users(id) on delete cascade deferrable initially deferred,
        object_key text not null,
        occurrence_key text not null,
        uid text not null,
        start_at timestamptz not null,
        end_at timestamptz not null,
        during tstzrange generated always as (tstzrange(start_at, end_at, '[)')) stored,
        all_day boolean not null default false,
        busy boolean not null default true,
        status text not null default 'confirmed' check (status in ('confirmed', 'tentative')),
        title text,
        updated_at timestamptz not null default now(),
        unique (calendar_id, object_key, occurrence_key),
        check (end_at >= start_at)
      );`);
    this.addSql(
      'create index imported_events_busy_idx on imported_events using gist (user_id, during) where busy;',
    );

    this.addSql(`
      create table booking_calendars (
        id uuid primary key,
        slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
        name text not null,
        type text not null check (type in ('simple', 'round_robin', 'collective', 'class', 'service')),
        duration_minutes integer not null check (duration_minutes > 0),
        slot_interval_minutes integer check (slot_interval_minutes > 0),
        buffer_before_minutes integer not null default 0 check (buffer_before_minutes >= 0),
        buffer_after_minutes integer not null default 0 check (buffer_after_minutes >= 0),
        min_notice_minutes integer not null default 0 check (min_notice_minutes >= 0),
        max_days_ahead integer not null default 60 check (max_days_ahead > 0),
        seats_per_slot integer check (seats_per_slot > 0),
        services jsonb not null default '[]',
        created_by text references users(id) on delete set null deferrable initially deferred,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );`);

    this.addSql(`
      create table booking_calendar_hosts (
        booking_calendar_id uuid not null references booking_calendars(id) on delete cascade deferrable initially deferred,
        user_id text not null references users(id) on delete cascade deferrable initially deferred,
        position integer not null default 0,
        primary key (booking_calendar_id, user_id)
      );`);

    this.addSql(`
      create table one_time_links (
        id uuid primary key,
        booking_calendar_id uuid not null references booking_calendars(id) on delete cascade deferrable initially deferred,
        token_hash text not null unique,
        status text not null default 'active' check (status in ('active', 'used', 'revoked')),
        expires_at timestamptz,
        used_at timestamptz,
        created_by text references users(id) on delete set null deferrable initially deferred,
        created_at timestamptz not null default now()
      );`);

    this.addSql(`
      create table appointments (
        id uuid primary key,
        origin text not null check (origin in ('booking', 'app', 'provider')),
        booking_calendar_id uuid references booking_calendars(id) on delete set null deferrable initially deferred,
        one_time_link_id uuid unique references one_time_links(id) on delete set null deferrable initially deferred,
        status text not null check (status in ('held', 'confirmed', 'cancelled')),
        title text not null,
        start_at timestamptz not null,
        end_at timestamptz not null,
        time_zone text,
        attendee jsonb,
        attendees jsonb not null default '[]',
        notes text,
        service_id text,
        manage_token_hash text unique,
        sequence integer not null default 0,
        created_by text references users(id) on delete set null deferrable initially deferred,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        version integer not null default 1,
        check (end_at > start_at)
      );`);

    // One row per host of an appointment. The EXCLUDE constraint is the no-double-booking guarantee:
    // two blocking rows of one host can never overlap, whatever the application does.
    this.addSql(`
      create table appointment_hosts (
        appointment_id uuid not null references appointments(id) on delete cascade deferrable initially deferred,
        user_id text not null references users(id) on delete cascade deferrable initially deferred,
        start_at timestamptz not null,
        end_at timestamptz not null,
        during tstzrange generated always as (tstzrange(start_at, end_at, '[)')) stored,
        blocking boolean not null default true,
        primary key (appointment_id, user_id),
        constraint appointment_hosts_no_overlap exclude using gist (user_id with =, during with &&) where (blocking)
      );`);

    this.addSql(`
      create table email_outbox (
        id uuid primary key,
        dedupe_key text not null unique,
        to_address text not null,
        subject text not null,
        text_body text not null,
        ical_method text,
        ical_body text,
        status text not null default 'pending' check (status in ('pending', 'sent', 'failed')),
        attempts integer not null default 0,
        last_error text,
        sent_at timestamptz,
        created_at timestamptz not null default now()
      );`);
  }

  override down(): void {
    for (const table of [
      'email_outbox',
      'appointment_hosts',
      'appointments',
      'one_time_links',
      'booking_calendar_hosts',
      'booking_calendars',
      'imported_events',
      'synced_objects',
      'provider_calendars',
      'calendar_connections',
      'schedules',
      'api_tokens',
      'users',
    ]) {
      this.addSql(`drop table if exists ${table} cascade;`);
    }
  }
}
