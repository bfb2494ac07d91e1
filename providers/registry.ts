/** Every provider the platform can link. A new provider is a new folder and one line here. */

import type { ProviderKind } from '../domain/connection.ts';
import { caldavModule, icloudModule } from './caldav/module.ts';
import { googleModule } from './google/module.ts';
import { icsModule } from './ics/module.ts';
import { microsoftModule } from './microsoft/module.ts';
import type { ProviderModule } from './module.ts';

export const providerModules: Partial<Record<ProviderKind, ProviderModule>> = {
  google: googleModule,
  microsoft: microsoftModule,
  icloud: icloudModule,
  caldav: caldavModule,
  ics: icsModule,
};

export function providerModule(kind: ProviderKind): ProviderModule {
  const module = providerModules[kind];
  if (!module) throw new Error(`Provider ${kind} is not available on this server`);
  return module;
}
