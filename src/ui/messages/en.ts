/**
 * The English texts of the pages the End-User sees (src/ui/pages.ts and the pages of
 * src/http/routes). Every other language (./de.ts) has exactly these keys and, in each message,
 * the same `{placeholders}` (test/ui/messages.test.ts). Messages are plain text: the values put
 * into the placeholders are escaped when the page is rendered (src/ui/i18n.ts).
 *
 * Keep these English texts as they are: tests and automation match some of them.
 */
export const EN = {
  'login.title': 'Sign in · {client}',
  'login.heading': 'Sign in to continue to {client}',
  'login.lead': 'Enter your username and password.',
  'login.username': 'Username',
  'login.password': 'Password',
  'login.submit': 'Sign in',
  'login.failed': 'Incorrect username or password.',
  'login.limited': 'Too many sign-in attempts. Try again in {wait}.',
  'login.device_client': 'your device',
  'login.device_title': 'Sign in · your device',
  'login.device_heading': 'Sign in to continue to your device',

  'wait.second': '1 second',
  'wait.seconds': '{count} seconds',
  'wait.minutes': '{count} minutes',

  'account.signed_in_as': 'Signed in as',

  'consent.title': 'Allow access · {client}',
  'consent.heading': '{client} wants to access your account',
  'consent.heading_unverified': '{client} (unverified) wants to access your account',
  'consent.unverified_label': 'Unverified app.',
  'consent.unverified_text':
    '“{client}” registered itself with this server; nobody has checked who runs it or that its name is true.',
  'consent.unverified_redirect': 'If you allow, you will be sent to {host}.',
  'consent.device_code':
    'Check that your device shows the code {code}. If it does not, or you did not start this on a device of yours, deny.',
  'consent.metadata_document':
    'Unverified application: it is identified only by its web address {client}, and this server has not checked who runs it.',
  'consent.scopes_heading': 'This will allow {client} to:',
  'consent.no_scopes': '{client} is not asking for access to any of your information.',
  'consent.trust': 'Only allow this if you trust {client}. Client ID: {client_id}',
  'consent.deny': 'Deny',
  'consent.allow': 'Allow',

  'scope.openid': 'Confirm who you are (your account identifier)',
  'scope.profile': 'See your name (full, given and family name) and when your profile was last updated',
  'scope.email': 'See your email address and whether it is verified',
  'scope.address': 'See your postal address',
  'scope.phone': 'See your phone number and whether it is verified',
  'scope.offline_access': 'Stay connected when you are not using the app',
  'scope.other': 'Use the permission “{scope}”',

  'error.try_later': 'Try again later',
  'error.generic': 'Something went wrong',
  'error.cannot_continue': 'Cannot continue',
  'error.method_not_allowed': 'Method not allowed',
  'error.method_not_allowed_text': 'This page accepts only {methods} requests.',
  'error.see_log': 'The server log has the details under the request id below.',
  'error.request_id': 'request id',
  'error.code': 'error',
  'error.compare_head':
    'The {name} received, against the closest registered one: they differ from character {position} on (marked).',
  'error.compare_received': 'received',
  'error.compare_registered': 'registered',
  'error.compare_ends_here': 'ends here',
  'error.compare_first_difference': 'first difference',

  'form_post.title': 'Returning to the application',
  'form_post.heading': 'Returning you to the application…',
  'form_post.noscript': 'JavaScript is turned off. Select Continue to go back to the application.',
  'form_post.continue': 'Continue',

  'logout.title': 'Sign out of {product}?',
  'logout.client_asks': '{client} asked to sign you out.',
  'logout.question': 'Do you want to sign out?',
  'logout.submit': 'Sign out',
  'logout.cancel': 'Cancel, stay signed in',
  'logout.note':
    'Signing out ends your {product} session in this browser. Applications you signed in to with it are told that you signed out.',
  'signed_out.title': 'Signed out',
  'signed_out.heading': 'You are signed out',
  'signed_out.text': 'You have signed out of {product}. You can close this window.',

  'home.lead':
    'This is an OAuth 2.1 and OpenID Connect authorization server. Applications send you here to sign in; there is nothing to do on this page.',
  'home.discovery': 'OpenID Connect discovery',
  'home.metadata': 'OAuth 2.0 authorization server metadata',
  'home.jwks': 'Signing keys (JWKS)',
  'home.note': 'Operators: the README of gatehouse-server explains the configuration, the CLI and the demo.',

  'device.title': 'Connect a device',
  'device.lead': 'Enter the code shown on your device.',
  'device.code': 'Code',
  'device.continue': 'Continue',
  'device.unknown_code': 'That code is not valid or has expired. Check the code shown on your device and try again.',
  'device.limited': 'Too many codes were tried. Try again in {wait}.',
  'device.connected': 'Device connected',
  'device.connected_text': '{client} can now continue on your device. You can close this window.',
  'device.denied': 'Access denied',
  'device.denied_text': '{client} was not given access. You can close this window.',
} as const;

export type MessageKey = keyof typeof EN;
export type Messages = Readonly<Record<MessageKey, string>>;
