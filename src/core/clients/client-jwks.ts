/**
 * The public keys of private_key_jwt clients (RFC 7523 §2.2) that publish them at a `jwks_uri`
 * (RFC 7591 §2): fetched through the SSRF-safe fetcher only (src/core/outbound/safe-fetch.ts:
 * no private addresses unless outbound_allow_private_addresses, no redirects, bounded in time and
 * size), kept per instance in a bounded cache for as long as the response's Cache-Control
 * max-age says (clamped to [JWKS_MIN_CACHE_MS, JWKS_MAX_CACHE_MS]), and fetched again before that
 * only when an assertion names a `kid` the cached set lacks (a client rotating its key), at most
 * once per JWKS_REFETCH_INTERVAL_MS per URI, so that assertions with made-up key ids cannot make
 * the server fetch on every request; a failed fetch is remembered for JWKS_FAILURE_CACHE_MS for
 * the same reason. Concurrent fetches of one URI share one request.
 */
import type { JwkSet } from '../../store/store.js';
import { BoundedCache } from '../cache/bounded-cache.js';
import type { GatehouseSettings } from '../../config/settings.js';
import { ClientMetadataError, OutboundRequestFailed } from '../errors.js';
import { responseLifetimeMs, safeFetch, type SafeFetchOptions, type SafeResponse } from '../outbound/safe-fetch.js';
import { validateJwkSet } from '../registration/client-key-metadata.js';

export const JWKS_MIN_CACHE_MS = 60_000;
export const JWKS_MAX_CACHE_MS = 24 * 3600_000;
/** Without a Cache-Control max-age. */
export const JWKS_DEFAULT_CACHE_MS = 5 * 60_000;
export const JWKS_REFETCH_INTERVAL_MS = 60_000;
/** A failed fetch is answered from memory this long, so that a broken jwks_uri is not fetched per request. */
export const JWKS_FAILURE_CACHE_MS = 10_000;
const JWKS_CACHE_ENTRIES = 1000;

/** Why a client's jwks_uri gave no usable key set (the message is for the log and error_description). */
export class ClientJwksUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClientJwksUnavailable';
  }
}

interface Entry {
  keys: JwkSet;
  fetchedAt: number;
}

type Fetcher = (url: string, options: SafeFetchOptions) => Promise<SafeResponse>;

/** The Cache-Control max-age of a response in milliseconds, clamped; the default without one. */
export function jwksCacheMs(cacheControl: string | undefined): number {
  return responseLifetimeMs(cacheControl, {
    minMs: JWKS_MIN_CACHE_MS,
    maxMs: JWKS_MAX_CACHE_MS,
    defaultMs: JWKS_DEFAULT_CACHE_MS,
  });
}

export class ClientJwksCache {
  private readonly cache: BoundedCache<string, Entry>;
  private readonly failures: BoundedCache<string, ClientJwksUnavailable>;
  private readonly inFlight = new Map<string, Promise<Entry>>();
  private fetches = 0;

  constructor(
    /** The instance's context (its settings and clock, read at each use). */
    private readonly context: {
      settings: Pick<GatehouseSettings, 'outboundAllowPrivateAddresses' | 'outboundMaxResponseBytes'>;
      now(): number;
    },
    private readonly fetcher: Fetcher = safeFetch,
  ) {
    this.cache = new BoundedCache(JWKS_CACHE_ENTRIES, JWKS_DEFAULT_CACHE_MS, () => context.now());
    this.failures = new BoundedCache(JWKS_CACHE_ENTRIES, JWKS_FAILURE_CACHE_MS, () => context.now());
  }

  /** How many fetches this cache started (for tests and metrics). */
  get fetchCount(): number {
    return this.fetches;
  }

  /**
   * The key set at `uri`, from the cache while it is fresh. `unknownKid`: the cached set lacks
   * the key an assertion names, so it is fetched again unless the last fetch is less than
   * JWKS_REFETCH_INTERVAL_MS ago (then the cached set is the answer).
   */
  async keys(uri: string, options: { unknownKid: boolean } = { unknownKid: false }): Promise<JwkSet> {
    const cached = this.cache.get(uri);
    if (cached && (!options.unknownKid || this.context.now() - cached.fetchedAt < JWKS_REFETCH_INTERVAL_MS)) {
      return cached.keys;
    }
    const failure = this.failures.get(uri);
    if (failure && !cached) throw failure;
    if (failure && cached) return cached.keys;
    let pending = this.inFlight.get(uri);
    if (!pending) {
      const epoch = this.failures.epoch;
      pending = this.fetch(uri)
        .catch((error: unknown) => {
          if (error instanceof ClientJwksUnavailable) this.failures.set(uri, error, epoch);
          throw error;
        })
        .finally(() => this.inFlight.delete(uri));
      this.inFlight.set(uri, pending);
    }
    return (await pending).keys;
  }

  private async fetch(uri: string): Promise<Entry> {
    const epoch = this.cache.epoch;
    this.fetches++;
    const { settings } = this.context;
    let response: SafeResponse;
    try {
      response = await this.fetcher(uri, {
        headers: { accept: 'application/jwk-set+json, application/json' },
        allowPrivateAddresses: settings.outboundAllowPrivateAddresses,
        maxResponseBytes: settings.outboundMaxResponseBytes,
      });
    } catch (error) {
      if (error instanceof OutboundRequestFailed) throw new ClientJwksUnavailable(`jwks_uri ${error.message}`);
      throw error;
    }
    if (response.status !== 200) throw new ClientJwksUnavailable(`jwks_uri answered HTTP ${response.status}`);
    let keys: JwkSet;
    try {
      keys = validateJwkSet(JSON.parse(response.body.toString('utf8')) as unknown, 'jwks_uri');
    } catch (error) {
      if (error instanceof SyntaxError) throw new ClientJwksUnavailable('jwks_uri did not answer with JSON');
      if (error instanceof ClientMetadataError) throw new ClientJwksUnavailable(error.message);
      throw error;
    }
    const entry = { keys, fetchedAt: this.context.now() };
    const cacheControl = response.headers['cache-control'];
    this.cache.set(uri, entry, epoch, jwksCacheMs(Array.isArray(cacheControl) ? cacheControl.join(',') : cacheControl));
    return entry;
  }
}
