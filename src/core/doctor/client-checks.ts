/**
 * The registered clients: their redirect URIs (RFC 9700 §2.1 and §4.1, RFC 8252 §7.3 and §8.3),
 * PKCE opt-outs (RFC 9700 §2.1.1), and their secrets' strength and age (RFC 6749 §10.10,
 * RFC 9700 §2.5).
 */
import type { Client } from '../../store/store.js';
import { isGeneratedSecretHash } from '../secrets.js';
import { DAY_MS, finding, isLoopbackHostname, type Finding } from './findings.js';

/** A secret older than this is reported (a year: long enough that it has likely been copied around). */
export const SECRET_MAX_AGE_DAYS = 365;

/** Query parameter names that carry a URL onward: a redirect URI with one may be an open redirector. */
const FORWARDING_PARAMS = /(^|[?&])(redirect|redirect_uri|return|return_to|returnurl|next|url|continue|target|goto)=/i;

const SECRET_METHODS = new Set<Client['tokenEndpointAuthMethod']>([
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
]);

/** The fix of a client metadata field: the config file entry (or re-creating a CLI-made client). */
export function clientFix(client: Client, line: string): string {
  return `${line}   (in the config file entry of client ${client.clientId}; a client made with the CLI: gatehouse clients delete ${client.clientId}, then clients create again)`;
}

function redirectUriFindings(client: Client, uri: string): Finding[] {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return [
      finding(
        'error',
        'clients.redirect_uri',
        'RFC 6749 §3.1.2',
        `client ${client.clientId}: redirect URI ${uri} is not an absolute URI`,
        clientFix(client, 'redirect_uris: [<a valid https URI>]'),
      ),
    ];
  }
  const findings: Finding[] = [];
  const where = `client ${client.clientId}: redirect URI ${uri}`;
  if (url.protocol === 'http:' && !isLoopbackHostname(url.hostname)) {
    findings.push(
      finding(
        'error',
        'clients.redirect_uri',
        'RFC 9700 §2.1, RFC 8252 §7.3',
        `${where} is plain http on a non-loopback host: the code travels in clear`,
        clientFix(client, `redirect_uris: [https://${url.host}${url.pathname}]`),
      ),
    );
  }
  if (url.hostname.toLowerCase() === 'localhost') {
    findings.push(
      finding(
        'warning',
        'clients.redirect_uri',
        'RFC 8252 §8.3',
        `${where} uses localhost: RFC 8252 §8.3 says NOT RECOMMENDED (the name may resolve elsewhere, and firewalls treat it differently); use the loopback IP literal, which also lets the port vary (§7.3)`,
        clientFix(client, `redirect_uris: [${uri.replace(/localhost/i, '127.0.0.1')}]`),
      ),
    );
  }
  if (uri.includes('*')) {
    findings.push(
      finding(
        'error',
        'clients.redirect_uri',
        'RFC 9700 §4.1.3',
        `${where} contains "*": redirect URIs are compared exactly, never as patterns`,
        clientFix(client, 'redirect_uris: [<each exact URI>]'),
      ),
    );
  }
  if (FORWARDING_PARAMS.test(url.search)) {
    findings.push(
      finding(
        'warning',
        'clients.redirect_uri',
        'RFC 9700 §4.11',
        `${where} has a query parameter that forwards to another URL: if the client follows it, its redirect URI is an open redirector that can leak the code`,
        clientFix(client, `redirect_uris: [${url.origin}${url.pathname}]`),
      ),
    );
  }
  return findings;
}

function secretFindings(client: Client, now: number): Finding[] {
  if (!SECRET_METHODS.has(client.tokenEndpointAuthMethod)) return [];
  const findings: Finding[] = [];
  if (client.clientSecretHash === null) {
    findings.push(
      finding(
        'error',
        'clients.secret',
        'RFC 6749 §2.3.1',
        `client ${client.clientId} uses ${client.tokenEndpointAuthMethod} but has no secret: it cannot authenticate`,
        clientFix(client, 'client_secret: <a generated secret of 32+ random bytes>'),
      ),
    );
    return findings;
  }
  if (!isGeneratedSecretHash(client.clientSecretHash)) {
    findings.push(
      finding(
        'info',
        'clients.secret',
        'RFC 6749 §10.10',
        `client ${client.clientId} has a secret chosen by hand (config file): its strength cannot be checked; it must be long and random (at least 128 bits)`,
        `openssl rand -base64 32   (as client_secret of ${client.clientId}, or gatehouse clients create to have one generated)`,
      ),
    );
  }
  const ageDays = Math.floor((now - client.createdAt) / DAY_MS);
  if (ageDays > SECRET_MAX_AGE_DAYS) {
    findings.push(
      finding(
        'warning',
        'clients.secret_age',
        'RFC 9700 §2.5',
        `client ${client.clientId}'s secret is ${ageDays} days old; replace it, or move the client to private_key_jwt (asymmetric keys, RFC 9700 §2.5)`,
        clientFix(client, 'token_endpoint_auth_method: private_key_jwt (with jwks), or a new client_secret'),
      ),
    );
  }
  return findings;
}

export function checkClients(clients: readonly Client[], now: number): Finding[] {
  return clients.flatMap((client) => [
    ...client.redirectUris.flatMap((uri) => redirectUriFindings(client, uri)),
    ...(client.requirePkce ||
    client.tokenEndpointAuthMethod === 'none' ||
    !client.grantTypes.includes('authorization_code')
      ? []
      : [
          finding(
            'warning',
            'clients.pkce',
            'RFC 9700 §2.1.1',
            `client ${client.clientId} opted out of PKCE (require_pkce: false): its codes are not protected against injection`,
            clientFix(client, 'require_pkce: true'),
          ),
        ]),
    ...secretFindings(client, now),
  ]);
}
