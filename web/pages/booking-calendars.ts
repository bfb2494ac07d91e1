import type { WebContext } from '../context.ts';
import type { Pages } from '../routing.ts';

export function registerBookingCalendarPages(_pages: Pages, _ctx: WebContext): void {}
