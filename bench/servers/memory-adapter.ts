/**
 * An in-memory storage adapter for oidc-provider (its adapter interface: upsert, find,
 * findByUid, findByUserCode, consume, destroy, revokeByGrantId).
 *
 * A Map with per-entry expiry (checked on read, swept every 30 s) and an index of each grant's
 * tokens for revokeByGrantId. Unlike oidc-provider's bundled development adapter it has no
 * size cap, so live sessions and grants are never evicted under load.
 */

interface Entry {
  payload: Record<string, unknown>;
  expiresAt: number;
}

const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

const entries = new Map<string, Entry>();
/** grantId -> keys of the entries issued under that grant */
const grantMembers = new Map<string, Set<string>>();
const sessionsByUid = new Map<string, string>();
const byUserCode = new Map<string, string>();

function remove(key: string): void {
  const entry = entries.get(key);
  if (!entry) return;
  entries.delete(key);
  const grantId = entry.payload['grantId'];
  if (typeof grantId === 'string') {
    const members = grantMembers.get(grantId);
    if (members) {
      members.delete(key);
      if (members.size === 0) grantMembers.delete(grantId);
    }
  }
}

const sweeper = setInterval(() => {
  const now = Date.now();
  for (const [key, entry] of entries) if (entry.expiresAt <= now) remove(key);
  for (const [uid, id] of sessionsByUid) if (!entries.has(`Session:${id}`)) sessionsByUid.delete(uid);
  for (const [code, key] of byUserCode) if (!entries.has(key)) byUserCode.delete(code);
}, 30_000);
sweeper.unref();

export class BenchMemoryAdapter {
  constructor(private readonly model: string) {}

  private key(id: string): string {
    return `${this.model}:${id}`;
  }

  private get(key: string): Record<string, unknown> | undefined {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      remove(key);
      return undefined;
    }
    return entry.payload;
  }

  async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
    const key = this.key(id);
    remove(key);
    entries.set(key, { payload, expiresAt: typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity });
    const grantId = payload['grantId'];
    if (GRANTABLE.has(this.model) && typeof grantId === 'string') {
      let members = grantMembers.get(grantId);
      if (!members) {
        members = new Set();
        grantMembers.set(grantId, members);
      }
      members.add(key);
    }
    if (this.model === 'Session' && typeof payload['uid'] === 'string') sessionsByUid.set(payload['uid'], id);
    if (typeof payload['userCode'] === 'string') byUserCode.set(payload['userCode'], key);
  }

  async find(id: string): Promise<Record<string, unknown> | undefined> {
    return this.get(this.key(id));
  }

  async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
    const id = sessionsByUid.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined> {
    const key = byUserCode.get(userCode);
    return key === undefined ? undefined : this.get(key);
  }

  async consume(id: string): Promise<void> {
    const payload = this.get(this.key(id));
    if (payload) payload['consumed'] = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    remove(this.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const members = grantMembers.get(grantId);
    if (!members) return;
    for (const key of [...members]) remove(key);
    grantMembers.delete(grantId);
  }
}
