/**
 * What the console's route files share (src/http/routes/console/console-routes.ts builds it):
 * opening a request of a signed-in administrator, and sending its pages and redirects.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AdminAccess, AdminActor, AdminFamily } from '../../../core/admin/admin-access.js';
import type { ChangeOrigin } from '../../../core/admin/client-administration.js';
import type { ConsoleSession } from '../../../core/console/console-session.js';
import type { ProviderContext } from '../../../core/context.js';
import type { Params } from '../../../core/params.js';
import type { SafeHtml } from '../../../ui/html.js';
import type { ConsoleFrame, ConsoleSection } from '../../../ui/console-kit.js';
import type { MessageKey } from '../../../ui/i18n.js';
import type { PageContext } from '../../page-context.js';
import { AdminProblem, ClientMetadataError, KeyManagementError } from '../../../core/errors.js';

/** What `?done=` may announce after a change: fixed messages, so a link cannot put words on a page. */
export type ConsoleNotice = 'created' | 'saved' | 'deleted' | 'revoked' | 'rotated' | 'retired' | 'password';

export const NOTICES: Record<ConsoleNotice, MessageKey> = {
  created: 'console.done_created',
  saved: 'console.done_saved',
  deleted: 'console.done_deleted',
  revoked: 'console.done_revoked',
  rotated: 'console.done_rotated',
  retired: 'console.done_retired',
  password: 'console.done_password',
};

/** A request of a signed-in administrator allowed `access` to `family`. */
export interface ConsoleCall {
  page: PageContext;
  frame: ConsoleFrame;
  actor: AdminActor;
  /** How its changes are announced (the audit trail's source and actor). */
  origin: ChangeOrigin;
  session: ConsoleSession;
  /** The form of a POST (CSRF checked). */
  form: Params;
  query: Params;
}

export interface ConsoleRoutes {
  context: ProviderContext;
  /** The console's path below the host (`<issuer path>/console`). */
  base(): string;
  /** The call, or undefined once the browser was sent to sign in (or shown the 403 page). */
  open(
    request: FastifyRequest,
    reply: FastifyReply,
    section: ConsoleSection,
    family: AdminFamily,
    access: AdminAccess,
  ): Promise<ConsoleCall | undefined>;
  /** The `?done=` notice of a page, if it names one. */
  notice(call: ConsoleCall): SafeHtml | undefined;
  send(reply: FastifyReply, page: string, status?: number): FastifyReply;
  redirect(reply: FastifyReply, path: string, done?: ConsoleNotice): FastifyReply;
  notFound(reply: FastifyReply, call: ConsoleCall): FastifyReply;
}

export const HTML_ROUTE = { config: { responseKind: 'html' as const } };

/**
 * Why a change was refused, in the core's words, for the form shown again; undefined for any
 * other error (which the error handler answers).
 */
export function refusalOf(error: unknown): string | undefined {
  if (error instanceof ClientMetadataError) return `${error.field}: ${error.message}`;
  if (error instanceof AdminProblem && error.status !== 404) return error.message;
  if (error instanceof KeyManagementError) return error.message;
  return undefined;
}

/** Runs `change`; a refusal comes back as its reason, any other error is thrown. */
export async function attempt<T>(change: () => Promise<T>): Promise<{ ok: T } | { refused: string }> {
  try {
    return { ok: await change() };
  } catch (error) {
    const refused = refusalOf(error);
    if (refused === undefined) throw error;
    return { refused };
  }
}

/** The words of a form field, whitespace-separated (one per line in a textarea, or spaces). */
export function wordsOf(value: string | undefined): string[] {
  return (value ?? '').split(/\s+/).filter((word) => word !== '');
}
