/**
 * Template overrides (setting `branding.templates`): a folder with one file per page whose
 * markup replaces the built-in content of that page's card. The document around it (the
 * `lang`, the title, the hashed inline style, the theme stylesheet, the brand header) stays
 * Gatehouse's, so the Content-Security-Policy and the language handling hold for every template.
 *
 * The language is deliberately tiny: `{{name}}` inserts one of the values documented for the
 * page (PAGE_VALUES), HTML-escaped; the values Gatehouse renders as markup itself (`hidden_fields`,
 * `scope_list`, …) are inserted as they are. There are no expressions, loops or raw output.
 * Everything is checked when the folder is loaded (config load, and again at start):
 *
 * - every file is a known page (`login.html`, …); every `{{name}}` is a value of its page;
 * - a value inside a tag is inside a double-quoted attribute value (escaping makes it safe
 *   there, not in an unquoted one); URL attributes (href, src, action) take only URL values;
 * - no <script>, <style>, `style=` or `on…=` handler (the CSP would block them anyway);
 * - the forms keep the stable form contract: the page's form fields are present (FORM_CONTRACT).
 *
 * A problem is a ConfigError naming the file and line, never a 500 when the page is shown.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/schema/config-error.js';
import { escapeHtml, raw, SafeHtml, type HtmlValue } from './html.js';

/** Values every page has. */
const COMMON = ['lang', 'product_name', 'home_url'] as const;

/** The pages that can be overridden and the values each one's template may use. */
export const PAGE_VALUES = {
  login: [
    'action',
    'hidden_fields',
    'client_name',
    'username',
    'error',
    'heading',
    'lead',
    'username_label',
    'password_label',
    'submit_label',
  ],
  consent: [
    'action',
    'hidden_fields',
    'client_name',
    'client_id',
    'username',
    'heading',
    'notices',
    'scope_list',
    'trust_note',
    'allow_label',
    'deny_label',
    'signed_in_as_label',
  ],
  logout: [
    'action',
    'hidden_fields',
    'username',
    'heading',
    'lead',
    'submit_label',
    'cancel_label',
    'cancel_url',
    'note',
    'signed_in_as_label',
  ],
  'signed-out': ['heading', 'text'],
  'device-code': [
    'action',
    'hidden_fields',
    'username',
    'heading',
    'lead',
    'error',
    'code_label',
    'user_code',
    'submit_label',
    'signed_in_as_label',
  ],
  'device-done': ['heading', 'text', 'client_name'],
  error: ['title', 'message', 'details'],
  home: ['heading', 'lead', 'links', 'note'],
} as const satisfies Record<string, readonly string[]>;

export type TemplatePage = keyof typeof PAGE_VALUES;
export type PageValues<P extends TemplatePage> = Record<(typeof PAGE_VALUES)[P][number], HtmlValue>;

/** Values that are URLs (the only ones allowed in href, src, action and formaction). */
const URL_VALUES = new Set(['action', 'cancel_url', 'home_url']);

/** The stable form contract (README "The login and consent pages"): what each form must post. */
const FORM_CONTRACT: Partial<Record<TemplatePage, { values: string[]; markup: RegExp[] }>> = {
  login: { values: ['action', 'hidden_fields'], markup: [/name="username"/, /name="password"/] },
  consent: {
    values: ['action', 'hidden_fields'],
    markup: [/name="decision"[^>]*value="allow"|value="allow"[^>]*name="decision"/, /value="deny"/],
  },
  logout: { values: ['action', 'hidden_fields'], markup: [] },
  'device-code': { values: ['action', 'hidden_fields'], markup: [/name="user_code"/] },
};

type Part = string | { name: string };

export class PageTemplate {
  readonly #parts: readonly Part[];

  constructor(parts: readonly Part[]) {
    this.#parts = parts;
  }

  /** The card's markup: each value escaped unless Gatehouse made it (SafeHtml). */
  render(values: Record<string, HtmlValue>): SafeHtml {
    let out = '';
    for (const part of this.#parts) {
      if (typeof part === 'string') out += part;
      else out += renderValue(values[part.name]);
    }
    return raw(out);
  }
}

function renderValue(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (SafeHtml.is(value)) return value.toString();
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(renderValue).join('');
  return escapeHtml(String(value));
}

export type PageTemplates = Partial<Record<TemplatePage, PageTemplate>>;

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

/** Parses and checks one page's template; throws ConfigError naming `file` and the line. */
export function compileTemplate(page: TemplatePage, text: string, file: string): PageTemplate {
  const fail = (index: number, problem: string): never => {
    throw new ConfigError(`Invalid template ${file} (line ${lineOf(text, index)}): ${problem}`);
  };
  const forbidden = /<script\b|<style\b|\sstyle\s*=|\son[a-z]+\s*=/i.exec(text);
  if (forbidden) {
    fail(
      forbidden.index + forbidden[0].length - forbidden[0].trimStart().length,
      `${JSON.stringify(forbidden[0].trim())} is not allowed: the pages' Content-Security-Policy blocks inline scripts, styles and event handlers (use the branding.stylesheet setting for styles)`,
    );
  }
  const allowed = new Set<string>([...COMMON, ...PAGE_VALUES[page]]);
  const parts: Part[] = [];
  const used = new Set<string>();
  let position = 0;
  for (const match of text.matchAll(/\{\{([^{}]*)\}\}|\{\{|\}\}/g)) {
    const index = match.index;
    if (match[1] === undefined) fail(index, `unbalanced "${match[0]}"`);
    const name = match[1]!.trim();
    if (!allowed.has(name)) {
      fail(index, `{{${name}}} is not a value of the ${page} page (it has: ${[...allowed].join(', ')})`);
    }
    // Inside a tag (a `<` after the last `>`), a value must sit in a double-quoted attribute value.
    const before = text.slice(0, index);
    const tagStart = before.lastIndexOf('<');
    if (tagStart > before.lastIndexOf('>')) {
      const inTag = before.slice(tagStart);
      if ((inTag.match(/"/g) ?? []).length % 2 === 0) {
        fail(index, `{{${name}}} inside a tag must be in a double-quoted attribute value, such as title="{{${name}}}"`);
      }
      const attribute = /([a-zA-Z-]+)\s*=\s*"[^"]*$/.exec(inTag)?.[1]?.toLowerCase() ?? '';
      if (['href', 'src', 'action', 'formaction', 'srcset'].includes(attribute) && !URL_VALUES.has(name)) {
        fail(index, `{{${name}}} is not a URL value and cannot be used in ${attribute}=`);
      }
      if (['hidden_fields', 'scope_list', 'notices', 'details', 'links'].includes(name)) {
        fail(index, `{{${name}}} is markup and cannot be used inside a tag`);
      }
    }
    parts.push(text.slice(position, index), { name });
    used.add(name);
    position = index + match[0].length;
  }
  parts.push(text.slice(position));
  const contract = FORM_CONTRACT[page];
  if (contract) {
    for (const value of contract.values) {
      if (!used.has(value)) fail(0, `the ${page} page's form must use {{${value}}} (the stable form contract)`);
    }
    if (!/action="\{\{\s*action\s*\}\}"/.test(text))
      fail(0, `the ${page} page's form must post to action="{{action}}"`);
    for (const markup of contract.markup) {
      if (!markup.test(text))
        fail(0, `the ${page} page's form must keep the field ${markup.source} (the stable form contract)`);
    }
  }
  return new PageTemplate(parts.filter((part) => part !== ''));
}

/**
 * Loads a template folder: `<page>.html` for the pages it overrides. Any other file is refused
 * (a misspelt name would silently keep the built-in page).
 */
export function loadTemplates(folder: string): PageTemplates {
  let entries: string[];
  try {
    if (!statSync(folder).isDirectory()) throw new Error('not a folder');
    entries = readdirSync(folder);
  } catch (error) {
    throw new ConfigError(`Invalid branding.templates: cannot read the folder ${folder} (${(error as Error).message})`);
  }
  const templates: PageTemplates = {};
  for (const entry of entries.sort()) {
    const page = entry.replace(/\.html$/, '');
    if (!entry.endsWith('.html') || !Object.hasOwn(PAGE_VALUES, page)) {
      throw new ConfigError(
        `Invalid branding.templates: ${join(folder, entry)} is not a page template (expected one of: ${Object.keys(
          PAGE_VALUES,
        )
          .map((name) => `${name}.html`)
          .join(', ')})`,
      );
    }
    const file = join(folder, entry);
    templates[page as TemplatePage] = compileTemplate(page as TemplatePage, readFileSync(file, 'utf8'), file);
  }
  return templates;
}
