/**
 * The flow inspector's explanations: which checks a step passed, and for a failed step the rule
 * that failed, in words, with its spec section, and the most likely fix for the client's
 * developer and for the operator. Derived from what the endpoint answered and the protocol events
 * it emitted (src/core/events.ts), never from secrets.
 */
import type { ValueComparison } from '../errors.js';
import type { FlowCheck, FlowFailure, SpecRef } from './flow-model.js';

/** A spec section and its URL (the RFC Editor's HTML, anchored at the section). */
export function rfc(number: number, section: string): SpecRef {
  const anchor = /^[A-Z]/.test(section) ? `appendix-${section.replace(/^Appendix /, '')}` : `section-${section}`;
  return { label: `RFC ${number} §${section}`, url: `https://www.rfc-editor.org/rfc/rfc${number}#${anchor}` };
}

export interface StepOutcome {
  /** `authorize`, `interaction`, `token`, `userinfo`, `introspect`, `revoke`, `par`, `resource`, … */
  endpoint: string;
  ok: boolean;
  grantType: string | null;
  error: string | null;
  description: string | null;
  comparison: ValueComparison | null;
  /** The protocol events the request emitted (type and the fields rules read). */
  events: Array<{ type: string; reason?: string; detail?: string | null }>;
  /** Names of the request's parameters. */
  paramNames: Set<string>;
  codeChallengeMethod: string | null;
  /** How the client authenticated (client_secret_basic, client_secret_post, private_key_jwt, none), when it did. */
  clientAuth: string | null;
}

interface Rule {
  check: string;
  rule: string;
  ref: SpecRef;
  fixClient: string;
  fixOperator: string;
}

const has = (outcome: StepOutcome, type: string) => outcome.events.some((event) => event.type === type);
const says = (outcome: StepOutcome, pattern: RegExp) => pattern.test(outcome.description ?? '');

/** The rule a failed step broke. */
function failedRule(outcome: StepOutcome): Rule {
  if (
    outcome.comparison?.name === 'redirect_uri' ||
    (outcome.endpoint === 'authorize' && says(outcome, /redirect_uri|redirect URI/i))
  )
    return {
      check: 'redirect_uri exactly matches a registered one',
      rule: 'The redirect_uri must be exactly one of the client’s registered redirect URIs (simple string comparison, no prefix or pattern matching); otherwise the server shows an error page and must not redirect.',
      ref: rfc(9700, '4.1.3'),
      fixClient: 'Send exactly the redirect URI you registered: same scheme, host, port, path and trailing slash.',
      fixOperator: 'If the new URI is right, register it: gatehouse clients update <client_id> --redirect-uri <uri>.',
    };
  if (says(outcome, /code_challenge/) && outcome.endpoint !== 'token')
    return {
      check: 'PKCE code_challenge present (S256)',
      rule: 'The client must send a PKCE code_challenge with code_challenge_method=S256 in every authorization request; this client is required to use PKCE.',
      ref: rfc(9700, '2.1.1'),
      fixClient:
        'Generate a random code_verifier per request, send BASE64URL(SHA-256(verifier)) as code_challenge with code_challenge_method=S256, and the verifier at the token endpoint.',
      fixOperator:
        'Keep PKCE required (require_pkce); a client library without PKCE support must be upgraded, not exempted.',
    };
  if (has(outcome, 'code.replayed') || outcome.events.some((event) => event.reason === 'already_used'))
    return {
      check: 'the code is used only once',
      rule: 'An authorization code may be redeemed once. A second redemption is refused, and the tokens already issued from that code are revoked, since the code may have been stolen.',
      ref: rfc(6749, '4.1.2'),
      fixClient:
        'Redeem each code exactly once: do not retry the token request with the same code, and ignore a reloaded or replayed callback.',
      fixOperator:
        'A replay by someone else than the client means the code leaked (logs, Referer, browser history): look for where redirect URLs are recorded.',
    };
  if (says(outcome, /code_verifier/))
    return {
      check: 'PKCE: S256(code_verifier) equals the code_challenge',
      rule: 'The code_verifier sent to the token endpoint must hash (S256) to the code_challenge of the authorization request the code came from.',
      ref: rfc(7636, '4.6'),
      fixClient:
        'Send the code_verifier generated for this authorization request (keep it per request, not per user or per app).',
      fixOperator: 'Nothing to change on the server: the client lost or mixed up its verifier.',
    };
  if (has(outcome, 'refresh.reused'))
    return {
      check: 'a rotated refresh token is not used again',
      rule: 'Refresh tokens rotate: each use returns a new one and spends the old. A spent refresh token presented again means two parties hold it, so the whole family of tokens is revoked.',
      ref: rfc(9700, '4.14.2'),
      fixClient:
        'Store the new refresh token from every refresh response and discard the old one; serialise concurrent refreshes.',
      fixOperator:
        'If the client did not do this itself, its refresh token was stolen: the user must sign in again (already forced by the revocation).',
    };
  if (outcome.events.some((event) => event.type === 'code.refused'))
    return {
      check: 'the code was issued to this client, with this redirect_uri, and has not expired',
      rule: 'The code must be one this server issued to the authenticated client, unexpired, redeemed with the redirect_uri of its authorization request.',
      ref: rfc(6749, '4.1.3'),
      fixClient:
        'Redeem the code promptly (it lives about a minute), with the same client and redirect_uri as the authorization request.',
      fixOperator: 'Check the client’s clock and retries; the log’s code.refused event says which condition failed.',
    };
  if (outcome.error === 'invalid_client')
    return {
      check: 'client authentication',
      rule: 'The client must authenticate with the method it registered (token_endpoint_auth_method) and valid credentials.',
      ref: rfc(6749, '2.3.1'),
      fixClient: 'Send the client_id and secret with the registered method (HTTP Basic for client_secret_basic).',
      fixOperator:
        'Check the client’s registered auth method, or rotate its secret: gatehouse clients update <client_id> --rotate-secret.',
    };
  if (outcome.endpoint === 'resource' && says(outcome, /expired/))
    return {
      check: 'the access token has not expired (exp)',
      rule: 'A resource server must reject an access token whose exp has passed.',
      ref: rfc(9068, '4'),
      fixClient: 'Refresh the access token when expires_in has passed (or on invalid_token), then retry the call once.',
      fixOperator:
        'If tokens expire too soon for the client, raise access_token_ttl_seconds moderately; short lifetimes limit stolen tokens.',
    };
  if (outcome.endpoint === 'resource' && says(outcome, /not intended for this resource|aud/))
    return {
      check: 'the access token’s audience (aud) is this resource',
      rule: 'An access token is for the resources named by its aud claim; any other resource server must reject it (a token for one API is not a key to all of them).',
      ref: rfc(8707, '2'),
      fixClient:
        'Ask for a token for this resource (resource parameter, RFC 8707) and use each token only at the API it was issued for.',
      fixOperator: 'Register the resource (gatehouse resources) and allow the client to request it.',
    };
  if (outcome.endpoint === 'resource' || outcome.endpoint === 'userinfo')
    return {
      check: 'the bearer token is valid for this request',
      rule: 'A protected resource answers an invalid, expired or insufficient bearer token with 401 or 403 and a WWW-Authenticate challenge.',
      ref: rfc(6750, '3.1'),
      fixClient: 'Read the WWW-Authenticate error; refresh or request a token with the needed scope and audience.',
      fixOperator: 'Check the resource’s configured issuer and audience.',
    };
  if (outcome.endpoint === 'authorize' || outcome.endpoint === 'interaction')
    return {
      check: 'the authorization request is valid',
      rule: 'An invalid authorization request is answered with an error sent back to the client’s redirect_uri, once that is trusted; otherwise with an error page.',
      ref: rfc(6749, '4.1.2.1'),
      fixClient: 'Read error_description: it names the parameter that is missing or wrong.',
      fixOperator: 'Check the client’s registration (scopes, grant types, response types).',
    };
  return {
    check: 'the token request is valid',
    rule: 'The token endpoint answers a request it refuses with an error code and description.',
    ref: rfc(6749, '5.2'),
    fixClient: 'Read error_description: it names what is wrong.',
    fixOperator: 'Check the client’s registration (grant types, scopes, resources).',
  };
}

export function explainFailure(outcome: StepOutcome): { failure: FlowFailure; check: FlowCheck } {
  const rule = failedRule(outcome);
  return {
    failure: {
      error: outcome.error ?? 'error',
      description: outcome.description ?? '',
      rule: rule.rule,
      ref: rule.ref,
      comparison: outcome.comparison,
      fixClient: rule.fixClient,
      fixOperator: rule.fixOperator,
    },
    check: { name: rule.check, ok: false, detail: outcome.description ?? '', ref: rule.ref },
  };
}

const passed = (name: string, detail: string, ref: SpecRef | null): FlowCheck => ({ name, ok: true, detail, ref });

/** The checks a step passed (the ones its endpoint runs before answering as it did). */
export function passedChecks(outcome: StepOutcome): FlowCheck[] {
  const checks: FlowCheck[] = [];
  const auth = outcome.clientAuth;
  if (outcome.endpoint === 'authorize' && outcome.ok) {
    checks.push(passed('client_id is registered', 'known client', rfc(6749, '4.1.2.1')));
    checks.push(passed('redirect_uri exactly matches a registered one', 'exact string match', rfc(9700, '4.1.3')));
    checks.push(
      outcome.paramNames.has('code_challenge')
        ? passed('PKCE code_challenge present', `method ${outcome.codeChallengeMethod ?? 'plain'}`, rfc(7636, '4.3'))
        : {
            name: 'PKCE code_challenge present',
            ok: false,
            detail: 'no code_challenge (this client is not required to use PKCE)',
            ref: rfc(9700, '2.1.1'),
          },
    );
  }
  if (
    (outcome.endpoint === 'token' || outcome.endpoint === 'introspect' || outcome.endpoint === 'revoke') &&
    auth !== null &&
    (outcome.ok || outcome.error !== 'invalid_client')
  )
    checks.push(passed('client authentication', auth, rfc(6749, '2.3.1')));
  if (outcome.endpoint === 'token' && outcome.ok && outcome.grantType === 'authorization_code') {
    checks.push(passed('the code is used only once', 'unused, unexpired, issued to this client', rfc(6749, '4.1.2')));
    checks.push(passed('redirect_uri equals the authorization request’s', 'matched', rfc(6749, '4.1.3')));
    if (outcome.paramNames.has('code_verifier'))
      checks.push(
        passed(
          'PKCE: code_verifier matches the code_challenge',
          `method ${outcome.codeChallengeMethod ?? 'S256'}: matched`,
          rfc(7636, '4.6'),
        ),
      );
  }
  if (outcome.endpoint === 'token' && outcome.ok && outcome.grantType === 'refresh_token')
    checks.push(passed('refresh token rotated', 'the presented one is now spent', rfc(9700, '4.14.2')));
  if (outcome.endpoint === 'token' && outcome.ok && outcome.paramNames.has('resource'))
    checks.push(
      passed('audience restricted to the requested resource', 'resource parameter honoured', rfc(8707, '2.2')),
    );
  if (outcome.endpoint === 'userinfo' && outcome.ok)
    checks.push(passed('bearer access token valid, audience includes the issuer', 'accepted', rfc(6750, '2.1')));
  if (outcome.endpoint === 'resource' && outcome.ok)
    checks.push(passed('access token: signature, iss, aud, exp, scope', 'accepted by the resource', rfc(9068, '4')));
  return checks;
}
