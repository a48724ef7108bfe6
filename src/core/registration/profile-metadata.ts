/**
 * The client metadata `profile` (a Gatehouse extension): `fapi2` holds the client to the FAPI
 * 2.0 Security Profile, `oauth2.1` (the default) to the server's profile. A fapi2 client that
 * cannot meet a rule of src/core/profile/fapi2-profile.ts is refused at registration (config
 * file, CLI), with the rule's section and fix; PAR and DPoP, which the profile requires, are
 * switched on for it (an explicit `false` is refused).
 */
import { ClientMetadataError } from '../errors.js';
import { fapi2Violations, type Fapi2Subject } from '../profile/fapi2-profile.js';
import type { ValidatedClientMetadata } from './client-metadata-fields.js';

/** The values of the client metadata `profile`. */
export const CLIENT_PROFILES = ['oauth2.1', 'fapi2'] as const;

/** What a client's registration says about the rules, before its keys are validated. */
export type ProfileInput = Omit<Fapi2Subject, 'dpopBoundAccessTokens' | 'requirePushedAuthorizationRequests'>;

type ProfileFields = Pick<
  ValidatedClientMetadata,
  'profile' | 'dpop_bound_access_tokens' | 'require_pushed_authorization_requests'
>;

/** The flags the profile switches on: refused when explicitly false for a fapi2 client. */
const PROFILE_FLAGS = ['dpop_bound_access_tokens', 'require_pushed_authorization_requests'] as const;

/**
 * Validates `profile` and, for fapi2, the rest of the registration against the profile's rules.
 * Returns the profile and the two flags as they are to be stored (`false` when absent, unless fapi2).
 */
export function validateProfileMetadata(input: Record<string, unknown>, registration: ProfileInput): ProfileFields {
  const value = input['profile'];
  if (value !== undefined && value !== null && !(CLIENT_PROFILES as readonly unknown[]).includes(value)) {
    throw new ClientMetadataError(
      'profile',
      `profile ${JSON.stringify(value)} is not supported; use ${CLIENT_PROFILES.join(' or ')}`,
    );
  }
  const flags = Object.fromEntries(
    PROFILE_FLAGS.map((field) => {
      const flag = input[field];
      if (flag !== undefined && flag !== null && typeof flag !== 'boolean')
        throw new ClientMetadataError(field, `${field} must be a boolean, not ${typeof flag}`);
      return [field, flag ?? undefined];
    }),
  ) as Record<(typeof PROFILE_FLAGS)[number], boolean | undefined>;
  if (value !== 'fapi2') {
    return {
      profile: undefined,
      dpop_bound_access_tokens: flags.dpop_bound_access_tokens ?? false,
      require_pushed_authorization_requests: flags.require_pushed_authorization_requests ?? false,
    };
  }
  for (const field of PROFILE_FLAGS) {
    if (flags[field] === false) {
      throw new ClientMetadataError(
        field,
        `a fapi2 client cannot set ${field} to false: the FAPI 2.0 Security Profile requires it (${field === 'dpop_bound_access_tokens' ? 'FAPI 2.0 §5.3.2.1: sender-constrained access tokens' : 'FAPI 2.0 §5.3.2.2: pushed authorization requests'})`,
      );
    }
  }
  const [violation] = fapi2Violations({
    ...registration,
    dpopBoundAccessTokens: true,
    requirePushedAuthorizationRequests: true,
  });
  if (violation !== undefined) {
    throw new ClientMetadataError(
      violation.rule.field,
      `a fapi2 client must meet ${violation.rule.section} (${violation.rule.rule}): ${violation.problem}; set ${violation.rule.fix}`,
    );
  }
  return { profile: 'fapi2', dpop_bound_access_tokens: true, require_pushed_authorization_requests: true };
}
