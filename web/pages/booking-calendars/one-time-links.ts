/** A booking calendar's one-time links on its page: the list with each link's status, and revoking. */
import type { OneTimeLinkView } from '../../../bookings/links.ts';
import { type Html, html } from '../../html.ts';
import { csrfField, when } from '../../layout.ts';
import { copyRow } from './common.ts';

type LinkState = 'unused' | 'used' | 'revoked' | 'expired';

/** An active link past its expiry is stored as active; to its host it is expired. */
export function linkState(link: OneTimeLinkView, now: Date): LinkState {
  if (link.status === 'used') return 'used';
  if (link.status === 'revoked') return 'revoked';
  if (link.expiresAt && Date.parse(link.expiresAt) <= now.getTime()) return 'expired';
  return 'unused';
}

const STATE_TEXT: Record<LinkState, string> = {
  unused: 'Unused',
  used: 'Used',
  revoked: 'Revoked',
  expired: 'Expired',
};

export function oneTimeLinksSection(options: {
  slug: string;
  links: OneTimeLinkView[];
  /** The link just made: its token exists only in this response (only its hash is stored). */
  created: OneTimeLinkView | null;
  timeZone: string;
  csrfToken: string;
}): Html {
  const { slug, links, created, timeZone, csrfToken } = options;
  const now = new Date();
  return html`<section aria-labelledby="one-time-links">
    <h2 id="one-time-links">One-time links</h2>
    <p>A one-time link works for exactly one booking; after that it stops working. Give one to a
      person you want to see once, instead of your public link.</p>
    ${
      created?.url
        ? html`<div class="new-link" role="status">
            ${copyRow('new-one-time-link', 'New one-time link', created.url)}
            <p class="hint">Copy it now: it is shown only once. It works for exactly one booking.</p>
          </div>`
        : null
    }
    <form method="post" action="/console/booking-calendars/${slug}/one-time-links">
      ${csrfField(csrfToken)}
      <button type="submit">Create a one-time link</button>
    </form>
    ${
      links.length
        ? html`<table class="one-time-links">
            <caption class="visually-hidden">One-time links, newest first</caption>
            <thead><tr><th scope="col">Created</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
            <tbody>${links.map((link) => {
              const state = linkState(link, now);
              const created = when(link.createdAt, timeZone);
              return html`<tr data-state="${state}">
                <td>${created}</td>
                <td><span class="tag">${STATE_TEXT[state]}</span>${link.usedAt ? html`<br>${when(link.usedAt, timeZone)}` : null}${link.expiresAt && state !== 'used' ? html`<br>Expires ${when(link.expiresAt, timeZone)}` : null}</td>
                <td>${
                  state === 'unused'
                    ? html`<form method="post" action="/console/booking-calendars/${slug}/one-time-links/${link.id}/revoke">
                        ${csrfField(csrfToken)}
                        <button type="submit" class="secondary">Revoke<span class="visually-hidden"> the link created ${created}</span></button>
                      </form>`
                    : null
                }</td>
              </tr>`;
            })}</tbody>
          </table>`
        : html`<p>No one-time links yet.</p>`
    }
  </section>`;
}
