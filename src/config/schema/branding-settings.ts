/**
 * Settings of the pages the End-User sees: their branding (product name, logo, colours, an
 * extra stylesheet, template overrides; src/ui/branding.ts, src/ui/templates.ts) and the
 * languages they are offered in (OIDC Core §3.1.2.1 ui_locales, src/core/browser/page-language.ts).
 * Composed into the config file schema by src/config/settings-schema.ts.
 */
import { Type } from '@sinclair/typebox';
import { colorProblem, logoUrlProblem } from '../../ui/branding.js';
import { SHIPPED_LANGUAGES } from '../../ui/i18n.js';
import { setting, text } from './setting-node.js';

/**
 * A colour setting. The colours' contrast with each other is checked once all are read
 * (src/ui/page-kit.ts checkBranding, at config load and at start).
 */
function color<const P extends string>(path: P, doc: string) {
  return setting(text(), {
    setting: path,
    doc,
    defaultDoc: 'the built-in theme',
    valuesDoc: 'a CSS colour: `#rgb`, `#rrggbb` or `rgb(r, g, b)`',
    check: (value) => colorProblem(value),
  });
}

export const BRANDING_SETTINGS = {
  branding: Type.Optional(
    Type.Object(
      {
        product_name: setting(Type.String({ minLength: 1, maxLength: 80 }), {
          setting: 'branding.productName',
          defaultDoc: '`Gatehouse`',
          doc: "the product name in the pages' header, home page and sign-out texts (the `branding` group: docs/branding.md)",
        }),
        logo_url: setting(text(), {
          setting: 'branding.logoUrl',
          doc: 'the logo beside the name: a path on this server (`/static/logo.svg`) or a base64 `data:image/…` URL',
          defaultDoc: 'none: a shield icon',
          check: (value) => logoUrlProblem(value),
        }),
        colors: Type.Optional(
          Type.Object(
            {
              primary: color('branding.colors.primary', 'buttons, focus ring, icons'),
              accent: color('branding.colors.accent', 'check marks (granted permissions, success)'),
              background: color(
                'branding.colors.background',
                'page and card background; set with `text` (4.5:1 contrast is checked)',
              ),
              text: color('branding.colors.text', 'text colour; set with `background`'),
            },
            { additionalProperties: false },
          ),
        ),
        stylesheet: setting(text(), {
          setting: 'branding.stylesheet',
          doc: 'a CSS file served with the theme at `/branding/theme.css` (relative to the config file)',
          defaultDoc: 'none',
        }),
        templates: setting(text(), {
          setting: 'branding.templates',
          doc: 'a folder of page templates (`login.html`, `consent.html`, …) replacing the built-in markup (relative to the config file)',
          defaultDoc: 'none',
        }),
      },
      { additionalProperties: false },
    ),
  ),
  languages: setting(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }), {
    setting: 'languages',
    defaultDoc: '`[en]`',
    valuesDoc: `a list of ${SHIPPED_LANGUAGES.map((l) => `\`${l}\``).join(', ')}`,
    doc: 'the languages the pages are offered in (discovery `ui_locales_supported`); the first is the fallback',
    check: (languages) => {
      if (languages.length === 0) return 'must list at least one language';
      const unknown = languages.find((language) => !SHIPPED_LANGUAGES.includes(language));
      if (unknown !== undefined) {
        return `lists ${JSON.stringify(unknown)}, which Gatehouse has no texts for (shipped: ${SHIPPED_LANGUAGES.join(', ')})`;
      }
      if (new Set(languages).size !== languages.length) return 'lists a language twice';
      return undefined;
    },
  }),
};
