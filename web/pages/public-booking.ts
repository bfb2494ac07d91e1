import type { WebContext } from '../context.ts';
import type { Pages } from '../routing.ts';

export function registerPublicBookingPages(_pages: Pages, _ctx: WebContext): void {}
