/**
 * The provider's connection pages: adding a connection (web/pages/connections/wizard.ts), choosing
 * its calendars, its settings and removal, and reconnecting. Routes with fixed words come before
 * /console/connections/:id, which would otherwise take them.
 */
import type { WebContext } from '../context.ts';
import type { Pages } from '../routing.ts';
import { registerCalendarSelectionPages } from './connections/calendar-selection.ts';
import { registerReconnectPages } from './connections/reconnect.ts';
import { registerSettingsPages } from './connections/settings.ts';
import { registerWizardPages } from './connections/wizard.ts';

export function registerConnectionPages(pages: Pages, ctx: WebContext): void {
  registerWizardPages(pages, ctx);
  registerCalendarSelectionPages(pages, ctx);
  registerReconnectPages(pages, ctx);
  registerSettingsPages(pages, ctx);
}
