/**
 * The language and the PageKit (branding, templates, scope descriptions) of a page a route
 * renders: the language from the request's `ui_locales` (OIDC Core §3.1.2.1; kept on the
 * interaction, so login, consent and the response page of one authorization agree), else the
 * browser's Accept-Language (RFC 9110 §12.5.4), among the languages the server offers.
 */
import type { FastifyRequest } from 'fastify';
import { chooseLanguage, offeredLanguages } from '../core/browser/page-language.js';
import type { ProviderContext } from '../core/context.js';
import { Translator } from '../ui/i18n.js';
import { pageKitFor, type PageKit } from '../ui/page-kit.js';

export interface PageContext {
  lang: string;
  kit: PageKit;
  t: Translator;
}

export function pageContext(
  request: FastifyRequest,
  context: Pick<ProviderContext, 'settings'>,
  uiLocales: readonly string[] = [],
): PageContext {
  const lang = chooseLanguage(uiLocales, request.headers['accept-language'], offeredLanguages(context.settings));
  return { lang, kit: pageKitFor(context.settings), t: new Translator(lang) };
}
