/**
 * `gatehouse logout-deliveries list`: back-channel logout deliveries (OpenID Connect Back-Channel Logout 1.0).
 */
import type { Command } from 'commander';
import { formatTime, printList } from '../output.js';
import { limitFlag, listCommand, withStore, type StoreFlags } from '../shared.js';

interface LogoutDeliveriesListFlags extends StoreFlags {
  failed?: boolean;
  limit?: string;
  json?: boolean;
}

/** Back-Channel Logout 1.0 deliveries: the queue, what was delivered, what failed and why. */
async function logoutDeliveriesList(flags: LogoutDeliveriesListFlags): Promise<void> {
  const limit = limitFlag(flags.limit);
  const { deliveryStatus } = await import('../../core/logout/delivery-worker.js');
  const deliveries = await withStore(flags, (store) =>
    store.logoutDeliveries.list({ failed: flags.failed === true, ...(limit !== undefined ? { limit } : {}) }),
  );
  // The token itself is left out: it is a credential of the client until it expires.
  const views = deliveries.map((delivery) => ({
    id: delivery.id,
    client_id: delivery.clientId,
    uri: delivery.uri,
    status: deliveryStatus(delivery),
    attempts: delivery.attempts,
    last_error: delivery.lastError,
    next_attempt_at: formatTime(delivery.nextAttemptAt),
    delivered_at: formatTime(delivery.deliveredAt),
    created_at: formatTime(delivery.createdAt),
  }));
  printList(views, flags.json, {
    empty: flags.failed ? 'No failed logout deliveries.' : 'No logout deliveries.',
    headers: ['CREATED', 'CLIENT_ID', 'STATUS', 'ATTEMPTS', 'NEXT_ATTEMPT', 'LAST_ERROR', 'URI'],
    row: (view) => [
      view.created_at ?? '-',
      view.client_id,
      view.status,
      String(view.attempts),
      view.next_attempt_at ?? '-',
      view.last_error ?? '-',
      view.uri,
    ],
  });
}

export function registerLogoutDeliveries(program: Command): void {
  const logoutDeliveries = program
    .command('logout-deliveries')
    .description('back-channel logout deliveries (OpenID Connect Back-Channel Logout 1.0)');
  const description =
    'list logout token deliveries, newest first: delivered, pending, retrying (with the last error) and failed';
  listCommand(logoutDeliveries, 'list', description, (command) =>
    command
      .option('--failed', 'only deliveries that failed at least once and are not delivered')
      .option('--limit <n>', 'at most this many'),
  ).action((flags: LogoutDeliveriesListFlags) => logoutDeliveriesList(flags));
}
