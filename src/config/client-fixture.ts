/**
 * A client of the config file is client metadata as src/core/registration/client-metadata.ts validates it
 * (ValidatedClientMetadata, RFC 7591 names): the ClientFixture type and the fixture a validated
 * client becomes are derived from it here, so a new client metadata field needs nothing in the
 * config layer (unless validation gives it a default that fixtures should leave out: then one
 * line in LEFT_OUT_WHEN).
 */
import {
  ALWAYS_VALIDATED_FIELDS,
  type CLIENT_METADATA_FIELDS,
  type ValidatedClientMetadata,
} from '../core/registration/client-metadata-fields.js';

/** The fields every fixture has (validation always yields them); the others appear only when set. */
const ALWAYS = ['client_id', ...ALWAYS_VALIDATED_FIELDS] as const;
type AlwaysField = (typeof ALWAYS)[number];

/**
 * A client declared in the config file (client_secret: when absent for a confidential client,
 * the client cannot authenticate until one is set; see ValidatedClientMetadata for the others).
 */
export type ClientFixture = { [K in AlwaysField]: NonNullable<ValidatedClientMetadata[K]> } & {
  [K in Exclude<keyof ValidatedClientMetadata, AlwaysField>]?: NonNullable<ValidatedClientMetadata[K]>;
};

/** Optional fields to which validation gives a default: left out of the fixture while they hold it. */
const LEFT_OUT_WHEN: {
  [K in Exclude<keyof ValidatedClientMetadata, AlwaysField>]?: (
    value: ValidatedClientMetadata[K],
    metadata: ValidatedClientMetadata,
  ) => boolean;
} = {
  // OpenID Connect Core §8; absent: public.
  subject_type: (value) => value === 'public',
  // OpenID Connect RP-Initiated Logout 1.0 §3.1; absent: none.
  post_logout_redirect_uris: (value) => value.length === 0,
  // Back-Channel Logout 1.0 §2.2: only with a backchannel_logout_uri.
  backchannel_logout_session_required: (_value, metadata) => metadata.backchannel_logout_uri === undefined,
  // RFC 8693 policy; absent: none.
  token_exchange_resources: (value) => value.length === 0,
  // RFC 9449 §5.2; absent: false.
  dpop_bound_access_tokens: (value) => !value,
  // RFC 9126 §6; absent: false.
  require_pushed_authorization_requests: (value) => !value,
  // RFC 9101 §10.5; absent: false.
  require_signed_request_object: (value) => !value,
};

/** The fixture of validated client metadata (client_id present): unset and default-valued optional fields left out. */
export function clientFixtureOf(metadata: ValidatedClientMetadata & { client_id: string }): ClientFixture {
  const fixture: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(metadata) as [keyof ValidatedClientMetadata, unknown][]) {
    if ((ALWAYS as readonly string[]).includes(field)) {
      fixture[field] = value;
      continue;
    }
    if (value === undefined) continue;
    const leftOut = LEFT_OUT_WHEN[field as Exclude<keyof ValidatedClientMetadata, AlwaysField>] as
      | ((value: unknown, metadata: ValidatedClientMetadata) => boolean)
      | undefined;
    if (leftOut?.(value, metadata)) continue;
    fixture[field] = value;
  }
  return fixture as ClientFixture;
}

// Compile-time: the config file accepts exactly the fields validation yields (CLIENT_METADATA_FIELDS
// is the list load-config.ts checks keys against), so a new field cannot be forgotten in either.
type Never<T extends never> = T;
export type ValidatedFieldNotAccepted = Never<
  Exclude<keyof ValidatedClientMetadata, (typeof CLIENT_METADATA_FIELDS)[number]>
>;
export type AcceptedFieldNotValidated = Never<
  Exclude<(typeof CLIENT_METADATA_FIELDS)[number], keyof ValidatedClientMetadata>
>;
