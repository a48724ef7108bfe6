/**
 * What every page of one server shares besides its language: the branding (product name, logo,
 * theme stylesheet), the template overrides, the scope descriptions of the configured protected
 * resources, and where the home page is. Built once per settings object, when the routes are
 * installed (so a broken template or stylesheet fails the start, never a request).
 */
import { readFileSync } from 'node:fs';
import type { GatehouseSettings } from '../config/settings.js';
import { ConfigError } from '../config/schema/config-error.js';
import {
  THEME_PATH,
  colorProblem,
  colorsProblem,
  logoUrlProblem,
  themeCss,
  type BrandingSettings,
} from './branding.js';
import { loadTemplates, type PageTemplates } from './templates.js';

/** A scope's description: one text, or one per language (`en`, `de`, …). */
export type ScopeDescription = string | Readonly<Record<string, string>>;

export interface PageKit {
  productName: string;
  logoUrl: string | null;
  /** The theme stylesheet's path under the issuer, when there is a theme. */
  themeHref: string | null;
  /** The theme stylesheet's text (served at themeHref). */
  themeCss: string | null;
  templates: PageTemplates;
  /** Descriptions of the scopes of the configured protected resources. */
  scopeDescriptions: ReadonlyMap<string, ScopeDescription>;
  /** The issuer's root page (under the issuer's path, src/embed.ts). */
  homeHref: string;
}

export const DEFAULT_PAGE_KIT: PageKit = {
  productName: 'Gatehouse',
  logoUrl: null,
  themeHref: null,
  themeCss: null,
  templates: {},
  scopeDescriptions: new Map(),
  homeHref: '/',
};

/** The issuer's path without a trailing slash ('' at the root). */
function issuerPath(issuer: string): string {
  return new URL(issuer).pathname.replace(/\/+$/, '');
}

/** Reads the operator's stylesheet; a missing file is a configuration error. */
export function readStylesheet(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`Invalid branding.stylesheet: cannot read ${file} (${(error as Error).message})`);
  }
}

/** The colours' contrast (src/ui/branding.ts colorsProblem); throws ConfigError. */
function checkColors(branding: BrandingSettings): void {
  const problem = colorsProblem(branding.colors ?? {});
  if (problem !== undefined) throw new ConfigError(`Invalid branding.colors: ${problem}`, 'branding.colors');
  // Settings that did not come through the config file (src/server.ts callers) are held to the same rules.
  for (const [key, value] of Object.entries(branding.colors ?? {})) {
    const colorIssue = value === undefined ? undefined : colorProblem(value);
    if (colorIssue !== undefined) throw new ConfigError(`Invalid branding.colors.${key}: it ${colorIssue}`);
  }
  const logoIssue = branding.logoUrl === undefined ? undefined : logoUrlProblem(branding.logoUrl);
  if (logoIssue !== undefined) throw new ConfigError(`Invalid branding.logo_url: it ${logoIssue}`);
}

/**
 * Checks the branding as a whole (throws ConfigError): the colours together, and the files it
 * names, read and parsed, without building a kit.
 */
export function checkBranding(branding: BrandingSettings): void {
  checkColors(branding);
  if (branding.stylesheet !== undefined) readStylesheet(branding.stylesheet);
  if (branding.templates !== undefined) loadTemplates(branding.templates);
}

function buildPageKit(settings: GatehouseSettings): PageKit {
  const branding = settings.branding ?? {};
  checkColors(branding);
  const stylesheet = branding.stylesheet === undefined ? null : readStylesheet(branding.stylesheet);
  const css = themeCss(branding, stylesheet);
  const base = issuerPath(settings.issuer);
  const scopeDescriptions = new Map<string, ScopeDescription>();
  for (const resource of settings.resources) {
    for (const [scope, description] of Object.entries(resource.scope_descriptions ?? {})) {
      // The first resource that describes a scope names it (resources rarely share scope names).
      if (!scopeDescriptions.has(scope)) scopeDescriptions.set(scope, description);
    }
  }
  return {
    productName: branding.productName ?? 'Gatehouse',
    logoUrl: branding.logoUrl ?? null,
    themeHref: css === null ? null : `${base}${THEME_PATH}`,
    themeCss: css,
    templates: branding.templates === undefined ? {} : loadTemplates(branding.templates),
    scopeDescriptions,
    homeHref: `${base}/`,
  };
}

const kits = new WeakMap<GatehouseSettings, PageKit>();

/** The kit of these settings, built on first use. */
export function pageKitFor(settings: GatehouseSettings): PageKit {
  let kit = kits.get(settings);
  if (kit === undefined) {
    kit = buildPageKit(settings);
    kits.set(settings, kit);
  }
  return kit;
}
