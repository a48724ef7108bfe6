/**
 * The language of the pages the End-User sees (login, consent, logout confirmation), chosen
 * from the `ui_locales` a client sends (OIDC Core §3.1.2.1, RP-Initiated Logout §2).
 */

/** The languages the pages are written in (discovery's `ui_locales_supported`). */
export const UI_LOCALES_SUPPORTED = ['en'] as const;

/**
 * The `lang` of the login and consent pages for a request's `ui_locales`: the first tag the
 * pages support (English only, so `en` or a regional `en-*` tag such as `en-GB`), else none
 * (the pages' default, `en`).
 */
export function pageLanguage(uiLocales: readonly string[]): string | undefined {
  return uiLocales.find((tag) => /^en(?:-|$)/i.test(tag));
}
