/**
 * Resource indicators, RFC 8707: a client names the protected resource(s) a token is for, and
 * the access token's audience is restricted to them.
 */
import type { ProtectedResource } from '../../store/store.js';
import { InvalidTarget } from '../errors.js';
import type { Params } from '../params.js';

/**
 * RFC 8707 §2: each `resource` must be an absolute URI without a fragment, and Gatehouse only
 * issues tokens for registered resources ("invalid_target" otherwise).
 */
export async function requestedResources(
  params: Params,
  registered: { get(identifier: string): Promise<ProtectedResource | undefined> },
): Promise<string[]> {
  const resources = [...new Set(params.getAll('resource'))];
  for (const resource of resources) {
    let url: URL;
    try {
      url = new URL(resource);
    } catch {
      throw new InvalidTarget('resource must be an absolute URI');
    }
    if (url.hash !== '' || resource.includes('#')) throw new InvalidTarget('resource must not contain a fragment');
    if (!(await registered.get(resource))) throw new InvalidTarget(`resource ${resource} is not registered`);
  }
  return resources;
}

/**
 * The audience of an access token: the requested resources, or (no resource named) the
 * issuer itself, which is also where the token is usable (e.g. UserInfo). RFC 9068 §3.
 */
export function audienceFor(resources: readonly string[], issuer: string): string[] {
  return resources.length > 0 ? [...resources] : [issuer];
}
