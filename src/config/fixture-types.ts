/**
 * The fixtures a config file may declare (clients, users, protected resources), applied
 * idempotently at start by src/config/apply-fixtures.ts. Types only, shared by the settings
 * (src/config/settings.ts) and the settings schema (src/config/settings-schema.ts).
 */
export type { ClientFixture } from './client-fixture.js';

/** A user, with the OpenID Connect Core §5.1 standard claims Gatehouse keeps. */
export interface UserFixture {
  username: string;
  password: string;
  email?: string;
  name?: string;
  given_name?: string;
  family_name?: string;
  email_verified?: boolean;
  phone_number?: string;
  phone_number_verified?: boolean;
  /** OIDC Core §5.1.1 address members (formatted, street_address, locality, region, postal_code, country). */
  address?: Record<string, string>;
}

/** A protected resource (RFC 8707 resource indicator) declared in the config file. */
export interface ResourceFixture {
  /** The resource indicator: an absolute URI without fragment. */
  resource: string;
  name?: string;
  scopes: string[];
  /** Client ids (the resource server's own credentials) allowed to introspect its tokens. */
  introspection_client_ids: string[];
  /**
   * What each scope lets an application do, shown on the consent page instead of the scope's
   * name: one text, or one per language (`{ en: …, de: … }`).
   */
  scope_descriptions?: Record<string, string | Record<string, string>>;
}
