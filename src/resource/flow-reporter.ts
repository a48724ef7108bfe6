/**
 * Opt-in, for development: reports each verification outcome (accepted, or rejected with its
 * RFC 6750 error) to a Gatehouse running with the flow inspector, at its dev-only endpoint
 * `/_gatehouse/resource-events` (option `reportTo`), so the inspector's Resource lane fills in.
 * The report names the token by its `jti` only, never the token; it is sent in the background
 * and its failure never changes the verification.
 */
import { decodeJwt } from 'jose';
import { BearerError } from './bearer-errors.js';
import type { AccessTokenClaims, ResourceVerifier } from './types.js';

export interface ReportTarget {
  /** The inspector's endpoint, e.g. `http://localhost:9001/_gatehouse/resource-events`. */
  url: string;
  /** The inspector's access token (inspector.access_token), when it has one. */
  token?: string;
}

function claimsOf(token: string | undefined): Record<string, unknown> {
  if (token === undefined) return {};
  try {
    return decodeJwt(token);
  } catch {
    return {};
  }
}

/** The token a request presents in its Authorization header (Bearer or DPoP scheme). */
function presented(request: Request): string | undefined {
  return /^(?:bearer|dpop) +(\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
}

export function reportingVerifier(
  verifier: ResourceVerifier,
  target: ReportTarget,
  resource: string,
  fetchImpl: typeof fetch,
): ResourceVerifier {
  const report = (
    token: string | undefined,
    started: number,
    where: { method: string; path: string },
    scopes: readonly string[],
    outcome: { claims: AccessTokenClaims } | { error: unknown },
  ): void => {
    const claims = 'claims' in outcome ? (outcome.claims as Record<string, unknown>) : claimsOf(token);
    const form = new URLSearchParams({
      outcome: 'claims' in outcome ? 'accepted' : 'rejected',
      resource,
      method: where.method,
      path: where.path,
      duration_ms: String(Date.now() - started),
    });
    if (typeof claims['jti'] === 'string') form.set('jti', claims['jti']);
    if (typeof claims['client_id'] === 'string') form.set('client_id', claims['client_id']);
    if (scopes.length > 0) form.set('scope', scopes.join(' '));
    if ('error' in outcome) {
      const error = outcome.error;
      form.set('error', error instanceof BearerError ? (error.error ?? 'invalid_request') : 'server_error');
      form.set(
        'error_description',
        error instanceof Error ? ((error as BearerError).description ?? error.message) : '',
      );
    }
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (target.token !== undefined) headers['authorization'] = `Bearer ${target.token}`;
    fetchImpl(target.url, { method: 'POST', headers, body: form.toString(), signal: AbortSignal.timeout(2000) }).then(
      (response) => response.body?.cancel(),
      () => {},
    );
  };
  const observed = async (
    token: string | undefined,
    where: { method: string; path: string },
    scopes: readonly string[],
    run: () => Promise<AccessTokenClaims>,
  ): Promise<AccessTokenClaims> => {
    const started = Date.now();
    try {
      const claims = await run();
      report(token, started, where, scopes, { claims });
      return claims;
    } catch (error) {
      report(token, started, where, scopes, { error });
      throw error;
    }
  };
  return {
    ...verifier,
    resourceMetadataUrl: verifier.resourceMetadataUrl,
    verify: (request, requiredScopes = []) =>
      observed(
        presented(request),
        { method: request.method, path: new URL(request.url).pathname },
        requiredScopes,
        () => verifier.verify(request, requiredScopes),
      ),
    verifyToken: (token, requiredScopes = []) =>
      observed(token, { method: 'VERIFY', path: '(verifyToken)' }, requiredScopes, () =>
        verifier.verifyToken(token, requiredScopes),
      ),
  };
}
