/**
 * `resolveClient`: where every client is looked up (context.clients). A registered client comes
 * from the store through the instance's cache (./client-cache.ts); when Client ID Metadata
 * Documents are enabled (draft-ietf-oauth-client-id-metadata-document), a client_id that is an
 * https URL with a path and no registered client is resolved from the document at that URL
 * (./client-metadata-document.ts).
 *
 * Documents are cached per instance in a bounded cache (src/core/cache/bounded-cache.ts) on the
 * context's clock: fresh for the response's Cache-Control max-age, clamped to
 * [min_cache_seconds, max_cache_seconds]; then fetched again. When that refetch fails, the copy
 * fetched earlier is used until max_cache_seconds after it was fetched and never longer (the
 * cache entry itself expires then). A failure without a usable copy is remembered for a few
 * seconds, so that a broken URL is not fetched on every request; concurrent requests for one
 * URL share one fetch. Every failure is an audit event.
 *
 * Codes, grants and tokens reference their client's row (foreign keys), so a document's client
 * is written to the store too (metadataDocument: true) and rewritten when the document changes.
 * Such a row is trusted only through its document: without the feature, or without a fresh
 * enough document, the client does not exist.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ClientMetadataDocumentSettings } from '../../config/settings.js';
import type { Client, Store } from '../../store/store.js';
import { BoundedCache } from '../cache/bounded-cache.js';
import type { StoreCacheOptions } from '../cache/store-cache.js';
import { ClientMetadataDocumentUnavailable } from '../errors.js';
import type { EventBus } from '../events.js';
import { ClientCache } from './client-cache.js';
import { fetchClientMetadataDocument, isClientIdUrl, type DocumentFetchOptions } from './client-metadata-document.js';

/** Documents kept per instance at most; the least recently used go first. */
export const DOCUMENT_CACHE_ENTRIES = 1000;
/** How long a failed fetch is answered from memory (without a usable earlier copy). */
export const DOCUMENT_FAILURE_CACHE_MS = 10_000;

interface DocumentEntry {
  client: Client;
  freshUntil: number;
}

export interface ClientResolverDeps {
  settings: { clientMetadataDocuments: ClientMetadataDocumentSettings };
  store: Pick<Store, 'clients'>;
  events: Pick<EventBus, 'emit'>;
  now(): number;
}

export class ClientResolver extends ClientCache {
  private readonly documents: BoundedCache<string, DocumentEntry>;
  private readonly failures: BoundedCache<string, ClientMetadataDocumentUnavailable>;
  private readonly fetching = new Map<string, Promise<Client>>();
  private fetches = 0;

  constructor(
    private readonly deps: ClientResolverDeps,
    options: StoreCacheOptions,
    private readonly fetchOptions: DocumentFetchOptions = {},
  ) {
    super(deps.store, options);
    const clock = (): number => deps.now();
    const maxMs = deps.settings.clientMetadataDocuments.maxCacheSeconds * 1000;
    this.documents = new BoundedCache(DOCUMENT_CACHE_ENTRIES, maxMs, clock);
    this.failures = new BoundedCache(DOCUMENT_CACHE_ENTRIES, DOCUMENT_FAILURE_CACHE_MS, clock);
  }

  /** How many documents this instance fetched (tests). */
  get documentFetchCount(): number {
    return this.fetches;
  }

  /**
   * resolveClient: the registered client, or the client of the metadata document at `clientId`;
   * undefined for an unknown client. Throws ClientMetadataDocumentUnavailable when the document
   * is needed and cannot be used.
   */
  override async get(clientId: string): Promise<Client | undefined> {
    const stored = await super.get(clientId);
    if (stored && !stored.metadataDocument) return stored;
    if (!this.deps.settings.clientMetadataDocuments.enabled || !isClientIdUrl(clientId)) return undefined;
    const cached = this.documents.get(clientId);
    if (cached && this.deps.now() < cached.freshUntil) return cached.client;
    const failure = this.failures.get(clientId);
    if (failure && !cached) throw failure;
    let pending = this.fetching.get(clientId);
    if (!pending) {
      pending = this.refetch(clientId, stored, cached).finally(() => this.fetching.delete(clientId));
      this.fetching.set(clientId, pending);
    }
    return pending;
  }

  override clear(): void {
    super.clear();
    this.documents.clear();
    this.failures.clear();
  }

  private async refetch(clientId: string, stored: Client | undefined, cached: DocumentEntry | undefined) {
    const epoch = this.documents.epoch;
    const failureEpoch = this.failures.epoch;
    const settings = this.deps.settings.clientMetadataDocuments;
    this.fetches++;
    try {
      const fetched = await fetchClientMetadataDocument(clientId, settings, this.deps.now(), this.fetchOptions);
      const client = await this.keepRow(fetched.client, stored);
      this.documents.set(clientId, { client, freshUntil: fetched.freshUntil }, epoch);
      return client;
    } catch (error) {
      if (!(error instanceof ClientMetadataDocumentUnavailable)) throw error;
      // The cached copy is younger than max_cache_seconds (the cache entry's lifetime).
      const stale = cached !== undefined;
      this.deps.events.emit(
        { type: 'client_metadata_document.failed', clientId, reason: error.reason, stale },
        this.deps.now(),
      );
      if (cached) return cached.client;
      this.failures.set(clientId, error, failureEpoch);
      throw error;
    }
  }

  /** Writes the document's client to the store when its row is missing or differs (the references of its tokens). */
  private async keepRow(client: Client, stored: Client | undefined): Promise<Client> {
    const kept = stored ? { ...client, createdAt: stored.createdAt } : client;
    if (!stored || !isDeepStrictEqual(kept, stored)) await this.deps.store.clients.upsert(kept);
    return kept;
  }
}
