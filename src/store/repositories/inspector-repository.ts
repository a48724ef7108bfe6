/**
 * The flow inspector's steps and links (src/core/inspector/flow-inspector.ts writes them while
 * the inspector is on; nothing else does). Rows expire after inspector.retention_minutes.
 */
import type { Selectable } from 'kysely';
import type { Executor } from '../executor.js';
import type { InspectorStepsTable } from '../schema.js';

export interface InspectorStepRecord {
  id: string;
  flowId: string;
  at: number;
  clientId: string | null;
  outcome: 'ok' | 'failed' | 'info';
  /** The step as the inspector draws it. */
  data: Record<string, unknown>;
  expiresAt: number;
}

export interface InspectorFlowFilter {
  clientId?: string;
  /** Only flows with a failed step. */
  failed?: boolean;
  /** Steps at or after this time. */
  since?: number;
  /** Most flows returned (the newest). */
  limit: number;
}

export interface InspectorRepository {
  /** Inserts steps; a step already stored (same id) is left as it is. */
  insertSteps(steps: InspectorStepRecord[]): Promise<void>;
  /** Every step of a flow, oldest first. */
  flowSteps(flowId: string): Promise<InspectorStepRecord[]>;
  /** Every step of the newest flows that match, oldest first. */
  recentSteps(filter: InspectorFlowFilter): Promise<InspectorStepRecord[]>;
  /** Records that `key` belongs to `flowId` (the first link of a key wins). */
  link(key: string, flowId: string, expiresAt: number): Promise<void>;
  /** The flow `key` was linked to, if any. */
  flowOf(key: string): Promise<string | undefined>;
  /** Deletes steps and links expired at `now`; returns how many rows went. */
  deleteExpired(now: number): Promise<number>;
}

function toRecord(row: Selectable<InspectorStepsTable>): InspectorStepRecord {
  let data: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(row.data) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      data = parsed as Record<string, unknown>;
  } catch {
    data = {};
  }
  const outcome = row.outcome === 'failed' || row.outcome === 'ok' ? row.outcome : 'info';
  return {
    id: row.id,
    flowId: row.flow_id,
    at: Number(row.at),
    clientId: row.client_id,
    outcome,
    data,
    expiresAt: Number(row.expires_at),
  };
}

export function inspectorRepository(ex: Executor): InspectorRepository {
  return {
    insertSteps: async (steps) => {
      if (steps.length === 0) return;
      await ex.db
        .insertInto('inspector_steps')
        .values(
          steps.map((step) => ({
            id: step.id,
            flow_id: step.flowId,
            at: step.at,
            client_id: step.clientId,
            outcome: step.outcome,
            data: JSON.stringify(step.data),
            expires_at: step.expiresAt,
          })),
        )
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    },

    flowSteps: async (flowId) => {
      const rows = await ex.db
        .selectFrom('inspector_steps')
        .selectAll()
        .where('flow_id', '=', flowId)
        .orderBy('at')
        .orderBy('id')
        .execute();
      return rows.map(toRecord);
    },

    recentSteps: async (filter) => {
      let flows = ex.db
        .selectFrom('inspector_steps')
        .select('flow_id')
        .groupBy('flow_id')
        .orderBy((eb) => eb.fn.max('at'), 'desc')
        .limit(filter.limit);
      if (filter.since !== undefined) flows = flows.where('at', '>=', filter.since);
      if (filter.clientId !== undefined) flows = flows.where('client_id', '=', filter.clientId);
      if (filter.failed)
        flows = flows.having((eb) => eb.fn.sum(eb.case().when('outcome', '=', 'failed').then(1).else(0).end()), '>', 0);
      const ids = (await flows.execute()).map((row) => row.flow_id);
      if (ids.length === 0) return [];
      const rows = await ex.db
        .selectFrom('inspector_steps')
        .selectAll()
        .where('flow_id', 'in', ids)
        .orderBy('at')
        .orderBy('id')
        .execute();
      return rows.map(toRecord);
    },

    link: async (key, flowId, expiresAt) => {
      await ex.db
        .insertInto('inspector_links')
        .values({ key, flow_id: flowId, expires_at: expiresAt })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute();
    },

    flowOf: async (key) => {
      const row = await ex.db.selectFrom('inspector_links').select('flow_id').where('key', '=', key).executeTakeFirst();
      return row?.flow_id;
    },

    deleteExpired: async (now) => {
      const steps = await ex.db.deleteFrom('inspector_steps').where('expires_at', '<=', now).executeTakeFirst();
      const links = await ex.db.deleteFrom('inspector_links').where('expires_at', '<=', now).executeTakeFirst();
      return Number(steps.numDeletedRows) + Number(links.numDeletedRows);
    },
  };
}
