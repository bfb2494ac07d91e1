/**
 * The pages customers use, without an account: booking at /book/{slug} and through one-time links
 * at /l/{token}, and managing a booking from its e-mail's link at /manage/{id}?token=…. They share
 * the API's public budgets per client address: one count for both doors.
 */
import { publicBudgetsFor } from '../../platform/rate-limits.ts';
import type { WebContext } from '../context.ts';
import type { Pages } from '../routing.ts';
import { registerBookingFlow } from './booking/book.ts';
import { registerManagePages } from './booking/manage.ts';

export function registerPublicBookingPages(pages: Pages, ctx: WebContext): void {
  const limits = publicBudgetsFor(ctx.config);
  registerBookingFlow(pages, ctx, limits);
  registerManagePages(pages, ctx, limits);
}
