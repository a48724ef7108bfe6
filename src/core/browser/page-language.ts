/**
 * The language of the pages the End-User sees (login, consent, logout confirmation, device and
 * error pages), among the languages the server offers (setting `languages`, discovery's
 * `ui_locales_supported`): first the `ui_locales` a client sends (OIDC Core §3.1.2.1,
 * RP-Initiated Logout §2), then the browser's `Accept-Language` (RFC 9110 §12.5.4), else the
 * first language offered.
 *
 * A tag matches an offered language by its primary subtag (RFC 4647 §3.4 lookup: `de-CH` falls
 * back to `de`). A `ui_locales` tag is kept as sent (`en-GB` is the page's `lang`), an
 * Accept-Language match gives the offered language itself.
 */

/** The languages offered when the setting `languages` is not set. */
// Every language shipped in src/ui/messages (test/ui/languages.test.ts keeps the two lists equal):
// a browser that prefers German gets German pages unless the operator narrows `languages`.
export const PAGE_LANGUAGES_DEFAULT: readonly string[] = ['en', 'de'];

/** The languages offered under these settings. */
export function offeredLanguages(settings: { languages?: readonly string[] | undefined }): readonly string[] {
  return settings.languages ?? PAGE_LANGUAGES_DEFAULT;
}

const TAG = /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/;

function offered(tag: string, supported: readonly string[]): string | undefined {
  const primary = tag.split('-')[0]!.toLowerCase();
  return supported.find((language) => language === primary);
}

/**
 * The `lang` for a request's `ui_locales`: the first tag whose language is offered, else none.
 * `supported` defaults to every shipped language (PAGE_LANGUAGES_DEFAULT).
 */
export function pageLanguage(uiLocales: readonly string[], supported: readonly string[] = ['en']): string | undefined {
  return uiLocales.find((tag) => TAG.test(tag) && offered(tag, supported) !== undefined);
}

/**
 * RFC 9110 §12.5.4: the offered language the browser prefers most (highest q-value, the first
 * listed on a tie; q=0 means "not acceptable"; `*` any language), else none.
 */
export function acceptedLanguage(header: string | undefined, supported: readonly string[]): string | undefined {
  if (header === undefined || header.length > 1000) return undefined;
  const ranges: Array<{ tag: string; q: number; index: number }> = [];
  header.split(',').forEach((part, index) => {
    const [range, ...params] = part.trim().split(';');
    const tag = range?.trim() ?? '';
    if (tag !== '*' && !TAG.test(tag)) return;
    let q = 1;
    for (const param of params) {
      const match = /^\s*q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\s*$/i.exec(param);
      if (match) q = Number(match[1]);
      else return;
    }
    ranges.push({ tag, q, index });
  });
  ranges.sort((a, b) => b.q - a.q || a.index - b.index);
  const refused = new Set(ranges.filter((r) => r.q === 0 && r.tag !== '*').map((r) => r.tag.toLowerCase()));
  for (const { tag, q } of ranges) {
    if (q === 0) continue;
    if (tag === '*') return supported.find((language) => !refused.has(language));
    const language = offered(tag, supported);
    if (language !== undefined && !refused.has(tag.toLowerCase())) return language;
  }
  return undefined;
}

/** The page's `lang`: `ui_locales` first, then Accept-Language, then the first offered language. */
export function chooseLanguage(
  uiLocales: readonly string[],
  acceptLanguage: string | undefined,
  supported: readonly string[],
): string {
  return pageLanguage(uiLocales, supported) ?? acceptedLanguage(acceptLanguage, supported) ?? supported[0] ?? 'en';
}
