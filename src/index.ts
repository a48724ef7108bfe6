/**
 * Gatehouse as a library: start an authorization server from code (the CLI does the same).
 * The resource-server module is `gatehouse-resource`.
 */
export { startGatehouse, createContext, type RunningGatehouse, type StartOptions } from './server.js';
export { resolveSettings } from './config/resolve-settings.js';
export {
  DEFAULT_SETTINGS,
  type GatehouseSettings,
  type ClientFixture,
  type UserFixture,
  type ResourceFixture,
} from './config/settings.js';
export { openStore } from './store/open-store.js';
export type { Store } from './store/store.js';
export type { GatehouseEvent, TimedEvent } from './core/events.js';
export {
  createGatehouse,
  metadataPathFor,
  type Gatehouse,
  type GatehouseOptions,
  type ExternalUser,
  type ExternalUsers,
} from './embed.js';
