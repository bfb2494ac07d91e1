import type { WebContext } from '../context.ts';
import type { Pages } from '../routing.ts';

export function registerConnectionPages(_pages: Pages, _ctx: WebContext): void {}
