import type { WebContext } from '../context.ts';
import type { Pages } from '../routing.ts';

export function registerSchedulePages(_pages: Pages, _ctx: WebContext): void {}
