/**
 * The issuer and how it is served: TLS (https unless loopback), a TLS-terminating proxy
 * (`trust_proxy`), and what follows for cookies and HSTS.
 */
import type { GatehouseSettings } from '../../config/settings.js';
import { finding, isLoopbackHostname, type Finding } from './findings.js';

type IssuerSettings = Pick<GatehouseSettings, 'issuer' | 'tls' | 'trustProxy'>;

export function checkIssuer(settings: IssuerSettings): Finding[] {
  const url = new URL(settings.issuer);
  const loopback = isLoopbackHostname(url.hostname);
  const findings: Finding[] = [];
  if (url.protocol === 'http:') {
    findings.push(
      loopback
        ? finding(
            'info',
            'issuer.tls',
            'OAuth 2.1 §1.5',
            `the issuer ${settings.issuer} is plain http on a loopback host: fine for development; cookies are not Secure and no HSTS is sent`,
          )
        : finding(
            'error',
            'issuer.tls',
            'OAuth 2.1 §1.5, RFC 9700 §4.13',
            `the issuer ${settings.issuer} is plain http on a non-loopback host: tokens, codes and passwords cross the network in clear`,
            `issuer: https://${url.host}${url.pathname === '/' ? '' : url.pathname}`,
          ),
    );
    return findings;
  }
  // https: served by Gatehouse itself (tls) or by a TLS-terminating proxy in front of it.
  if (settings.tls === null && settings.trustProxy === false) {
    findings.push(
      finding(
        'warning',
        'issuer.proxy',
        'RFC 9700 §4.13, RFC 6797 §7.2',
        'the issuer is https but Gatehouse serves plain http and trusts no proxy: X-Forwarded-Proto is ignored, so requests do not count as https (no HSTS header) behind a TLS terminator',
        'trust_proxy: <the proxy addresses, e.g. 10.0.0.0/8>   (or tls_cert/tls_key to serve https itself)',
      ),
    );
  }
  if (settings.trustProxy === true) {
    findings.push(
      finding(
        'warning',
        'issuer.trust_proxy',
        'RFC 7239 §8.1, RFC 9700 §4.13',
        'trust_proxy: true trusts X-Forwarded-For and X-Forwarded-Proto from any client: an attacker reaching Gatehouse directly can fake its IP address (defeating the brute-force limits) and https',
        'trust_proxy: <the proxy addresses or CIDR ranges, e.g. 10.0.0.0/8>   (or a hop count)',
      ),
    );
  }
  if (settings.tls !== null && settings.trustProxy !== false) {
    findings.push(
      finding(
        'info',
        'issuer.trust_proxy',
        'RFC 7239 §8.1',
        'Gatehouse serves https itself and also trusts a proxy: keep trust_proxy only if a proxy really sits in front',
        'trust_proxy: false   (when no proxy sits in front)',
      ),
    );
  }
  if (findings.length === 0) {
    findings.push(
      finding(
        'info',
        'issuer.tls',
        'RFC 6797',
        'the issuer is https; cookies are Secure (__Host- prefixed) and https responses carry Strict-Transport-Security',
      ),
    );
  }
  return findings;
}
