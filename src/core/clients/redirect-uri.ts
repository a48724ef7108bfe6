/**
 * Matching a requested redirect_uri against a client's registered ones.
 *
 * RFC 9700 §4.1.3 and §2.1: exact string comparison, with a single exception: RFC 8252 §7.3
 * lets native apps listen on any port of a loopback IP literal, so for `http://127.0.0.1` and
 * `http://[::1]` the port is ignored and everything else must still match exactly. `localhost`
 * gets no such exception (RFC 8252 §8.3 recommends against it).
 */
const LOOPBACK_IP_HOSTS = new Set(['127.0.0.1', '[::1]']);

export function matchRedirectUri(requested: string, registered: readonly string[]): string | undefined {
  if (registered.includes(requested)) return requested;
  const requestedWithoutPort = loopbackWithoutPort(requested);
  if (requestedWithoutPort === undefined) return undefined;
  return registered.find((uri) => loopbackWithoutPort(uri) === requestedWithoutPort) ? requested : undefined;
}

/** For `http://127.0.0.1:PORT/...` or `http://[::1]:PORT/...`, the URI with the port removed. */
function loopbackWithoutPort(uri: string): string | undefined {
  const match = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::([1-9]\d{0,4}))?([/?#].*)?$/.exec(uri);
  if (!match || !LOOPBACK_IP_HOSTS.has(match[1]!)) return undefined;
  // Only a port an app can listen on (1-65535, written without leading zeros): anything else
  // would later fail to parse when the response is redirected to it.
  if (match[2] !== undefined && Number(match[2]) > 65535) return undefined;
  return `http://${match[1]}${match[3] ?? ''}`;
}

/**
 * The index of the first character where two strings differ (for explaining a mismatch); never
 * inside a surrogate pair, so that slicing there keeps both halves valid text.
 */
export function firstDifference(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  let at = length;
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) {
      at = i;
      break;
    }
  }
  const previous = a.charCodeAt(at - 1);
  return at > 0 && previous >= 0xd800 && previous <= 0xdbff ? at - 1 : at;
}
