/**
 * Theming of the pages (settings `branding.*`): the product name, a logo, four colours, and an
 * extra stylesheet. Colours and the stylesheet are served as one same-origin stylesheet,
 * `THEME_PATH` under the issuer, that the CSP allows by its exact URL (`style-src`), so the pages'
 * one inline <style> and its hash stay as they are. The logo is a same-origin path or a `data:`
 * image (the CSP has `img-src 'self' data:`).
 *
 * Colours are CSS colours in hex (`#rgb`, `#rrggbb`) or `rgb(r, g, b)` notation: they are
 * checked at config load, and so is the contrast they give (WCAG 2.2 §1.4.3, 4.5:1 for text),
 * because a branded page must pass the same accessibility checks as the default one.
 */

/** Where the theme stylesheet is served, below the issuer's path. */
export const THEME_PATH = '/branding/theme.css';

/** The `branding` settings (src/config/schema/branding-settings.ts). */
export interface BrandingSettings {
  /** Shown in the pages' header, the home page and the logout texts (default: Gatehouse). */
  productName?: string | undefined;
  /** A same-origin absolute path (`/static/logo.svg`) or a `data:image/…` URL. */
  logoUrl?: string | undefined;
  colors?: {
    primary?: string | undefined;
    accent?: string | undefined;
    background?: string | undefined;
    text?: string | undefined;
  };
  /** A CSS file served with the theme (path; relative paths are relative to the config file). */
  stylesheet?: string | undefined;
  /** A folder of page templates (src/ui/templates.ts; relative to the config file). */
  templates?: string | undefined;
}

type Rgb = readonly [number, number, number];

const HEX = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i;
const RGB = /^rgb\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)$/i;

/** The colour as red, green, blue (0-255), or undefined when it is not in an accepted notation. */
export function parseColor(value: string): Rgb | undefined {
  const hex = HEX.exec(value);
  if (hex) {
    const digits = hex[1]!.length === 3 ? [...hex[1]!].map((d) => d + d) : hex[1]!.match(/../g)!;
    return digits.map((pair) => Number.parseInt(pair, 16)) as unknown as Rgb;
  }
  const rgb = RGB.exec(value);
  if (rgb) {
    const channels = [rgb[1], rgb[2], rgb[3]].map(Number);
    if (channels.every((c) => c <= 255)) return channels as unknown as Rgb;
  }
  return undefined;
}

export function colorProblem(value: string): string | undefined {
  return parseColor(value) === undefined
    ? `must be a CSS colour in hex (#1f6feb, #16b) or rgb() notation (rgb(31, 111, 235)), not ${JSON.stringify(value)}`
    : undefined;
}

/** WCAG 2.2 relative luminance. */
function luminance([r, g, b]: Rgb): number {
  const linear = (c: number) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

/** WCAG 2.2 contrast ratio of two colours (1 to 21). */
export function contrastRatio(a: Rgb, b: Rgb): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

const BLACK: Rgb = [0, 0, 0];
const WHITE: Rgb = [255, 255, 255];

/** Black or white, whichever reads better on `color` (at least 4.58:1 for any colour). */
function textOn(color: Rgb): string {
  return contrastRatio(color, BLACK) >= contrastRatio(color, WHITE) ? '#000000' : '#ffffff';
}

/**
 * The problem with the colours together, or undefined: background and text are set together
 * (a text colour alone would meet either the light or the dark default background), with at
 * least 4.5:1 contrast (WCAG 2.2 §1.4.3); the primary colour is shown on that background as
 * the focus ring and icons, needing 3:1 (§1.4.11).
 */
export function colorsProblem(colors: NonNullable<BrandingSettings['colors']>): string | undefined {
  const background = colors.background === undefined ? undefined : parseColor(colors.background);
  const text = colors.text === undefined ? undefined : parseColor(colors.text);
  if ((background === undefined) !== (text === undefined)) {
    return 'background and text must be set together, so that their contrast can be checked';
  }
  if (background !== undefined && text !== undefined) {
    const ratio = contrastRatio(background, text);
    if (ratio < 4.5) {
      return `text on background has a contrast of ${ratio.toFixed(2)}:1; at least 4.5:1 is needed (WCAG 2.2 §1.4.3)`;
    }
    for (const key of ['primary', 'accent'] as const) {
      const value = colors[key] === undefined ? undefined : parseColor(colors[key]!);
      if (value !== undefined && contrastRatio(value, background) < 3) {
        return `${key} on background has a contrast of ${contrastRatio(value, background).toFixed(2)}:1; at least 3:1 is needed (WCAG 2.2 §1.4.11)`;
      }
    }
  }
  return undefined;
}

const DATA_IMAGE = /^data:image\/(?:png|gif|jpeg|webp|svg\+xml|avif);base64,[A-Za-z0-9+/]+={0,2}$/;

/**
 * A logo URL is a same-origin absolute path (not `//host`, which is another origin) or a
 * base64 `data:` image: the only image sources the pages' CSP allows (`img-src 'self' data:`).
 */
export function logoUrlProblem(value: string): string | undefined {
  if (DATA_IMAGE.test(value)) return undefined;
  if (/^\/(?![/\\])[\x21-\x7e]*$/.test(value) && !/["'<>`\\]/.test(value)) return undefined;
  return "must be a path on this server (such as /static/logo.svg) or a base64 data:image URL (data:image/png;base64,…): the pages' Content-Security-Policy allows no other image source";
}

/** The CSS custom properties the colours set (src/ui/html.ts STYLE uses them). */
function colorRules(colors: NonNullable<BrandingSettings['colors']>): string {
  const rules: string[] = [];
  const primary = colors.primary === undefined ? undefined : parseColor(colors.primary);
  if (primary !== undefined) {
    rules.push(`--primary:${colors.primary}`, `--primary-hover:${colors.primary}`, `--focus:${colors.primary}`);
    rules.push(`--on-primary:${textOn(primary)}`);
  }
  if (colors.accent !== undefined) rules.push(`--ok:${colors.accent}`);
  if (colors.background !== undefined && colors.text !== undefined) {
    for (const name of ['bg', 'bg-top', 'card', 'subtle', 'field']) rules.push(`--${name}:${colors.background}`);
    rules.push(`--text:${colors.text}`, `--muted:${colors.text}`);
  }
  // A :root rule later in the cascade than the inline style's overrides the light and the dark
  // scheme's values alike (a media query adds no specificity).
  return rules.length > 0 ? `:root{${rules.join(';')}}\n` : '';
}

/** The theme stylesheet: the colours, then the operator's stylesheet; null when there is none. */
export function themeCss(branding: BrandingSettings, stylesheet: string | null): string | null {
  const css = colorRules(branding.colors ?? {}) + (stylesheet ?? '');
  return css === '' ? null : css;
}
