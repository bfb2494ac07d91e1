import { Migration } from '@mikro-orm/migrations';

/**
 * The web console's sign-in: single-use links sent by e-mail, and the sessions they open. Only
 * SHA-256 hashes of the link and session tokens are stored; a session is revoked by sign-out or
 * ends at its expiry.
 */
export class Migration0005WebSignIn extends Migration {
  override up(): void {
    this.addSql(`
      create table sign_in_links (
        token_hash text primary key,
        user_id text not null references users(id) on delete cascade,
        expires_at timestamptz not null,
        used_at timestamptz,
        created_at timestamptz not null default now()
      );`);
    this.addSql('create index sign_in_links_user_idx on sign_in_links(user_id);');
    this.addSql(`
      create table web_sessions (
        token_hash text primary key,
        -- null for the administrator (signed in with the admin token).
        user_id text references users(id) on delete cascade,
        is_admin boolean not null default false,
        expires_at timestamptz not null,
        revoked_at timestamptz,
        last_seen_at timestamptz not null default now(),
        created_at timestamptz not null default now(),
        check (is_admin or user_id is not null)
      );`);
    this.addSql('create index web_sessions_user_idx on web_sessions(user_id);');
  }

  override down(): void {
    this.addSql('drop table web_sessions;');
    this.addSql('drop table sign_in_links;');
  }
}
