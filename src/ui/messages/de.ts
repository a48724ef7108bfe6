/**
 * Die deutschen Texte der Seiten (German): the same keys and placeholders as ./en.ts, checked by
 * the compiler (every key) and by test/ui/messages.test.ts (no extra key, the same placeholders).
 */
import type { Messages } from './en.js';

export const DE: Messages = {
  'login.title': 'Anmelden · {client}',
  'login.heading': 'Melden Sie sich an, um mit {client} fortzufahren',
  'login.lead': 'Geben Sie Ihren Benutzernamen und Ihr Passwort ein.',
  'login.username': 'Benutzername',
  'login.password': 'Passwort',
  'login.submit': 'Anmelden',
  'login.failed': 'Benutzername oder Passwort ist falsch.',
  'login.limited': 'Zu viele Anmeldeversuche. Versuchen Sie es in {wait} erneut.',
  'login.device_client': 'Ihr Gerät',
  'login.device_title': 'Anmelden · Ihr Gerät',
  'login.device_heading': 'Melden Sie sich an, um mit Ihrem Gerät fortzufahren',

  'wait.second': '1 Sekunde',
  'wait.seconds': '{count} Sekunden',
  'wait.minutes': '{count} Minuten',

  'account.signed_in_as': 'Angemeldet als',

  'consent.title': 'Zugriff erlauben · {client}',
  'consent.heading': '{client} möchte auf Ihr Konto zugreifen',
  'consent.heading_unverified': '{client} (nicht überprüft) möchte auf Ihr Konto zugreifen',
  'consent.unverified_label': 'Nicht überprüfte App.',
  'consent.unverified_text':
    '„{client}“ hat sich selbst bei diesem Server registriert; niemand hat geprüft, wer sie betreibt oder ob ihr Name stimmt.',
  'consent.unverified_redirect': 'Wenn Sie zustimmen, werden Sie zu {host} weitergeleitet.',
  'consent.device_code':
    'Prüfen Sie, ob Ihr Gerät den Code {code} anzeigt. Wenn nicht, oder wenn Sie dies nicht auf einem Ihrer Geräte gestartet haben, lehnen Sie ab.',
  'consent.metadata_document':
    'Nicht überprüfte Anwendung: Sie ist nur durch ihre Webadresse {client} bekannt, und dieser Server hat nicht geprüft, wer sie betreibt.',
  'consent.scopes_heading': 'Damit darf {client}:',
  'consent.no_scopes': '{client} möchte auf keine Ihrer Daten zugreifen.',
  'consent.trust': 'Stimmen Sie nur zu, wenn Sie {client} vertrauen. Client-ID: {client_id}',
  'consent.deny': 'Ablehnen',
  'consent.allow': 'Erlauben',

  'scope.openid': 'Bestätigen, wer Sie sind (Ihre Kontokennung)',
  'scope.profile':
    'Ihren Namen (vollständigen Namen, Vor- und Nachnamen) sehen und wann Ihr Profil zuletzt geändert wurde',
  'scope.email': 'Ihre E-Mail-Adresse sehen und ob sie bestätigt ist',
  'scope.address': 'Ihre Postanschrift sehen',
  'scope.phone': 'Ihre Telefonnummer sehen und ob sie bestätigt ist',
  'scope.offline_access': 'Verbunden bleiben, auch wenn Sie die App gerade nicht verwenden',
  'scope.other': 'Die Berechtigung „{scope}“ verwenden',

  'error.try_later': 'Versuchen Sie es später erneut',
  'error.generic': 'Etwas ist schiefgelaufen',
  'error.cannot_continue': 'Es kann nicht fortgefahren werden',
  'error.method_not_allowed': 'Methode nicht erlaubt',
  'error.method_not_allowed_text': 'Diese Seite akzeptiert nur {methods}-Anfragen.',
  'error.see_log': 'Das Serverprotokoll enthält die Einzelheiten unter der unten stehenden Anfrage-ID.',
  'error.request_id': 'Anfrage-ID',
  'error.code': 'Fehler',
  'error.compare_head':
    'Der empfangene Wert für {name}, verglichen mit dem ähnlichsten registrierten: Sie unterscheiden sich ab Zeichen {position} (markiert).',
  'error.compare_received': 'empfangen',
  'error.compare_registered': 'registriert',
  'error.compare_ends_here': 'endet hier',
  'error.compare_first_difference': 'erster Unterschied',

  'form_post.title': 'Zurück zur Anwendung',
  'form_post.heading': 'Sie werden zur Anwendung zurückgeleitet …',
  'form_post.noscript': 'JavaScript ist ausgeschaltet. Wählen Sie „Weiter“, um zur Anwendung zurückzukehren.',
  'form_post.continue': 'Weiter',

  'logout.title': 'Von {product} abmelden?',
  'logout.client_asks': '{client} möchte Sie abmelden.',
  'logout.question': 'Möchten Sie sich abmelden?',
  'logout.submit': 'Abmelden',
  'logout.cancel': 'Abbrechen, angemeldet bleiben',
  'logout.note':
    'Das Abmelden beendet Ihre {product}-Sitzung in diesem Browser. Anwendungen, bei denen Sie sich damit angemeldet haben, werden über die Abmeldung informiert.',
  'signed_out.title': 'Abgemeldet',
  'signed_out.heading': 'Sie sind abgemeldet',
  'signed_out.text': 'Sie haben sich von {product} abgemeldet. Sie können dieses Fenster schließen.',

  'home.lead':
    'Dies ist ein Autorisierungsserver für OAuth 2.1 und OpenID Connect. Anwendungen schicken Sie zur Anmeldung hierher; auf dieser Seite ist nichts zu tun.',
  'home.discovery': 'OpenID-Connect-Discovery',
  'home.metadata': 'Metadaten des OAuth-2.0-Autorisierungsservers',
  'home.jwks': 'Signaturschlüssel (JWKS)',
  'home.note': 'Für Betreiber: Die README von gatehouse-server erklärt die Konfiguration, die CLI und die Demo.',

  'device.title': 'Gerät verbinden',
  'device.lead': 'Geben Sie den Code ein, den Ihr Gerät anzeigt.',
  'device.code': 'Code',
  'device.continue': 'Weiter',
  'device.unknown_code':
    'Dieser Code ist ungültig oder abgelaufen. Prüfen Sie den Code auf Ihrem Gerät und versuchen Sie es erneut.',
  'device.limited': 'Es wurden zu viele Codes ausprobiert. Versuchen Sie es in {wait} erneut.',
  'device.connected': 'Gerät verbunden',
  'device.connected_text': '{client} kann jetzt auf Ihrem Gerät weitermachen. Sie können dieses Fenster schließen.',
  'device.denied': 'Zugriff verweigert',
  'device.denied_text': '{client} hat keinen Zugriff erhalten. Sie können dieses Fenster schließen.',
  'login.account_title': 'Anmelden · Ihr Konto',
  'login.account_heading': 'Melden Sie sich an, um zu Ihrem Konto zu gelangen',
  'consent.account_link': 'Sie können diesen Zugriff jederzeit auf {link} entfernen.',
  'consent.account_link_text': 'Ihrer Kontoseite',
  'home.account': 'Ihr Konto',
  'home.account_text': 'die Anwendungen, denen Sie Zugriff erlaubt haben, wo Sie angemeldet sind, Ihr Passwort',
  'my_account.title': 'Ihr Konto · {product}',
  'my_account.heading': 'Ihr Konto',
  'my_account.apps_heading': 'Anwendungen mit Zugriff',
  'my_account.apps_none': 'Sie haben keiner Anwendung Zugriff auf Ihr Konto erlaubt.',
  'my_account.apps_no_scopes': 'Kein Zugriff auf Ihre Daten',
  'my_account.apps_since': 'Erlaubt seit {since}',
  'my_account.apps_last_used': 'zuletzt verwendet {when}',
  'my_account.apps_not_used': 'seitdem nicht verwendet',
  'my_account.apps_remove': 'Zugriff entfernen',
  'my_account.apps_remove_label': 'Zugriff für {app} entfernen',
  'my_account.apps_note':
    'Wenn Sie den Zugriff entfernen, wird die Anwendung abgemeldet und verliert den Zugriff auf Ihr Konto; sie muss Sie erneut um Erlaubnis fragen.',
  'my_account.sessions_heading': 'Wo Sie angemeldet sind',
  'my_account.sessions_this_browser': 'Dieser Browser',
  'my_account.sessions_times': 'Angemeldet {signed_in} · zuletzt aktiv {last_active}',
  'my_account.sessions_sign_out': 'Abmelden',
  'my_account.sessions_sign_out_label': '{device} abmelden, zuletzt aktiv {last_active}',
  'my_account.sessions_sign_out_everywhere': 'Überall abmelden',
  'my_account.device': '{browser} unter {system}',
  'my_account.device_unknown': 'Unbekannter Browser',
  'my_account.password_heading': 'Passwort ändern',
  'my_account.password_managed':
    'Ihr Passwort wird von der Anwendung verwaltet, bei der Sie sich registriert haben; ändern Sie es dort.',
  'my_account.password_current': 'Aktuelles Passwort',
  'my_account.password_new': 'Neues Passwort',
  'my_account.password_confirm': 'Neues Passwort wiederholen',
  'my_account.password_sign_out_others': 'Meine anderen Browser abmelden',
  'my_account.password_submit': 'Passwort ändern',
  'my_account.password_wrong_current': 'Das aktuelle Passwort ist nicht korrekt.',
  'my_account.password_too_short': 'Das neue Passwort muss mindestens {min} Zeichen lang sein.',
  'my_account.password_mismatch': 'Die beiden neuen Passwörter stimmen nicht überein.',
  'my_account.password_limited': 'Zu viele Versuche. Versuchen Sie es in {wait} erneut.',
  'my_account.password_unsupported': 'Ihr Passwort kann hier nicht geändert werden.',
  'my_account.sign_out_this_browser': 'In diesem Browser abmelden',
  'my_account.done_app_removed':
    'Zugriff entfernt. Die Anwendung wurde abgemeldet und muss Sie erneut um Erlaubnis fragen.',
  'my_account.done_app_unchanged': 'Diese Anwendung hatte keinen Zugriff mehr, der entfernt werden konnte.',
  'my_account.done_session_ended': 'Dieser Browser wurde abgemeldet.',
  'my_account.done_password_changed': 'Ihr Passwort wurde geändert.',
  'my_account.done_password_changed_signed_out':
    'Ihr Passwort wurde geändert, und Ihre anderen Browser wurden abgemeldet.',
};
