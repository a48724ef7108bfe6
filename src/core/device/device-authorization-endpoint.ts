/**
 * The device authorization endpoint, RFC 8628 §3.1-3.2: a device (a TV, a command-line tool)
 * that cannot show a browser asks for a device code to poll the token endpoint with and a user
 * code for its user to enter at the verification page on another device.
 */
import type { DeviceCode, Store } from '../../store/store.js';
import {
  authenticateClient,
  type ClientAuthenticationDeps,
  type ClientAuthenticationRequest,
} from '../clients/client-authentication.js';
import { ENDPOINT_PATHS, type ProviderContext } from '../context.js';
import { UnauthorizedClient } from '../errors.js';
import { requestedResources } from '../resources/resource-indicators.js';
import { assertResourcesOpen } from '../registration/registration-policy.js';
import { allowedScope, parseScope } from '../scope.js';
import { randomToken, sha256Base64Url } from '../secrets.js';
import { newUserCode, normaliseUserCode, userCodeHash } from './user-code.js';

export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';

/** RFC 8628 §3.2: the device authorization response. */
export interface DeviceAuthorizationResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

/** What the endpoint uses: client authentication (as at the token endpoint), the registered resources, the new row. */
export type DeviceAuthorizationDeps = ClientAuthenticationDeps &
  Pick<ProviderContext, 'resources'> & { store: Pick<Store, 'deviceCodes'> };

/** A collision of live user codes is rare (20^8 codes); after this many the store is not drawing fresh ones. */
const USER_CODE_DRAWS = 5;

export async function handleDeviceAuthorization(
  request: ClientAuthenticationRequest,
  context: DeviceAuthorizationDeps,
): Promise<DeviceAuthorizationResponse> {
  const { params } = request;
  // RFC 6749 §3.2 (RFC 8628 §3.1 follows its rules): no parameter twice, but `resource` (RFC 8707 §2).
  params.assertNoDuplicates(['resource']);
  // RFC 8628 §3.1: "The client authentication requirements of Section 3.2.1 of [RFC6749] apply".
  const client = await authenticateClient(request, context);
  if (!client.grantTypes.includes(DEVICE_CODE_GRANT_TYPE)) {
    throw new UnauthorizedClient(`this client is not allowed to use the ${DEVICE_CODE_GRANT_TYPE} grant`);
  }
  // RFC 8628 §3.1 `scope` (RFC 6749 §3.3) and RFC 8707 §2 `resource`, checked as at /authorize.
  const scope = allowedScope(parseScope(params.get('scope')), parseScope(client.scope));
  const resources = await requestedResources(params, context.resources);
  assertResourcesOpen(client, resources, context.settings);

  const { settings } = context;
  const now = context.now();
  const deviceCode = randomToken(32);
  for (let draw = 0; draw < USER_CODE_DRAWS; draw++) {
    const userCode = newUserCode();
    const record: DeviceCode = {
      deviceCodeHash: sha256Base64Url(deviceCode),
      userCodeHash: userCodeHash(normaliseUserCode(userCode)!),
      flowId: randomToken(12),
      clientId: client.clientId,
      scope,
      resources,
      status: 'pending',
      userId: null,
      sid: null,
      authTime: null,
      intervalSeconds: settings.deviceCodeIntervalSeconds,
      lastPolledAt: null,
      createdAt: now,
      expiresAt: now + settings.deviceCodeTtlSeconds * 1000,
      consumedAt: null,
    };
    if (!(await context.store.deviceCodes.create(record, now))) continue;
    const verificationUri = settings.issuer + ENDPOINT_PATHS.deviceVerification;
    return {
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: verificationUri,
      // RFC 8628 §3.3.1: the user code in the URI, for a QR code; the page still asks the user
      // to confirm it (§5.4).
      verification_uri_complete: `${verificationUri}?user_code=${encodeURIComponent(userCode)}`,
      expires_in: settings.deviceCodeTtlSeconds,
      interval: settings.deviceCodeIntervalSeconds,
    };
  }
  throw new Error('no free user code after several draws');
}
