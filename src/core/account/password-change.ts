/**
 * Changing one's password on the account page. The current password is required, so that a
 * browser left signed in is not enough to take the account over (NIST SP 800-63B §6.1.2.3
 * asks for the current authenticator before a change), and checking it counts against the same
 * brute-force limits as the sign-in form (src/core/limits/attempt-limits.ts): the form cannot be
 * used to guess the password instead.
 */
import type { Session, Store } from '../../store/store.js';
import type { ProviderContext } from '../context.js';
import { beginLoginAttempt } from '../limits/attempt-limits.js';
import { passwordProblem } from '../users/password-policy.js';
import type { DirectoryUser } from '../users/user-directory.js';
import { signOutSessions } from './account-sessions.js';
import type { SignOutDeps } from './account-sessions.js';

export interface PasswordChangeForm {
  currentPassword?: string | undefined;
  newPassword?: string | undefined;
  confirmPassword?: string | undefined;
  /** Also sign out every other browser signed in as this user. */
  signOutOthers: boolean;
}

/** Why a change was refused; the page words it in the user's language. */
export type PasswordRefusal = 'wrong_current' | 'too_short' | 'mismatch';

/** Which field a refusal refers to (the page marks it `aria-invalid`). */
export type PasswordField = 'current_password' | 'new_password' | 'confirm_password';

export type PasswordChangeResult =
  | { kind: 'changed'; sessionsEnded: number }
  | { kind: 'refused'; field: PasswordField; reason: PasswordRefusal }
  | { kind: 'limited'; retryAfterSeconds: number }
  /** The user directory keeps passwords elsewhere (an embedding app gave no way to change them). */
  | { kind: 'unsupported' };

export type PasswordChangeDeps = Pick<ProviderContext, 'settings' | 'events' | 'now' | 'users'> & {
  store: Pick<Store, 'rateLimits'>;
} & SignOutDeps;

export async function changePassword(
  session: Session,
  user: DirectoryUser,
  form: PasswordChangeForm,
  context: PasswordChangeDeps,
  clientIp: string,
  deviceCookie: string | undefined,
): Promise<PasswordChangeResult> {
  const change = context.users.changePassword;
  if (change === undefined) return { kind: 'unsupported' };
  const newPassword = form.newPassword ?? '';
  // The new password's own problems are reported before the current one is checked, which
  // counts an attempt: a typo in the new password costs no attempt.
  if (passwordProblem(newPassword) !== undefined)
    return { kind: 'refused', field: 'new_password', reason: 'too_short' };
  if (newPassword !== (form.confirmPassword ?? '')) {
    return { kind: 'refused', field: 'confirm_password', reason: 'mismatch' };
  }
  const attempt = await beginLoginAttempt(context, user.username, clientIp, deviceCookie);
  if (attempt.limited) return { kind: 'limited', retryAfterSeconds: attempt.retryAfterSeconds };
  const ok = await context.users.verifyPassword(user, form.currentPassword ?? '');
  await attempt.finish(ok, null);
  if (!ok) {
    context.events.emit({
      type: 'login.failed',
      flowId: null,
      reason: 'unknown_user_or_wrong_password',
      username: user.username,
      clientId: null,
      ip: clientIp,
    });
    return { kind: 'refused', field: 'current_password', reason: 'wrong_current' };
  }
  await change(user, newPassword);
  context.events.emit({ type: 'user.updated', userId: user.id, username: user.username, source: 'account' });
  const sessionsEnded = form.signOutOthers ? await signOutSessions(session, context, { keepCurrent: true }) : 0;
  return { kind: 'changed', sessionsEnded };
}
