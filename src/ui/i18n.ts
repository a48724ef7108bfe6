/**
 * The page texts in the End-User's language: `Translator` looks a message up in the catalogue of
 * one shipped language (./messages/) and fills its `{placeholders}`. The message text and every
 * value are escaped (src/ui/html.ts); only `SafeHtml` made by the page itself (e.g.
 * `<strong>…</strong>` around a value) goes in as markup.
 */
import { html, raw, type HtmlValue, type SafeHtml, escapeHtml } from './html.js';
import { DE } from './messages/de.js';
import { EN, type MessageKey, type Messages } from './messages/en.js';

/** The languages the pages are written in, English first (the fallback). */
export const CATALOGUES: Readonly<Record<string, Messages>> = { en: EN, de: DE };
export const SHIPPED_LANGUAGES: readonly string[] = Object.keys(CATALOGUES);

/** The `{name}` placeholders of a message, in order. */
export function placeholdersOf(message: string): string[] {
  return [...message.matchAll(/\{([a-z_]+)\}/g)].map((match) => match[1]!);
}

export class Translator {
  readonly language: string;
  readonly #messages: Messages;

  /** `lang`: a BCP 47 tag; its primary subtag picks the catalogue, English when none matches. */
  constructor(lang: string | undefined) {
    const primary = (lang ?? 'en').split('-')[0]!.toLowerCase();
    this.language = Object.hasOwn(CATALOGUES, primary) ? primary : 'en';
    this.#messages = CATALOGUES[this.language]!;
  }

  /** The message as markup, with the values escaped (unless SafeHtml) in its placeholders. */
  t(key: MessageKey, values: Record<string, HtmlValue> = {}): SafeHtml {
    const message = this.#messages[key];
    const parts = message.split(/\{([a-z_]+)\}/g);
    let out = '';
    for (let i = 0; i < parts.length; i++) {
      if (i % 2 === 0) out += escapeHtml(parts[i]!);
      else {
        const name = parts[i]!;
        if (!Object.hasOwn(values, name)) throw new TypeError(`message ${key} needs a value for {${name}}`);
        out += html`${values[name]}`.toString();
      }
    }
    return raw(out);
  }

  /** The message as plain text (for a <title>, whose content `html` escapes again). */
  text(key: MessageKey, values: Record<string, string | number> = {}): string {
    return this.#messages[key].replace(/\{([a-z_]+)\}/g, (_match, name: string) => {
      if (!Object.hasOwn(values, name)) throw new TypeError(`message ${key} needs a value for {${name}}`);
      return String(values[name]);
    });
  }

  /** "45 seconds", "1 minute", "15 minutes": how long until a limited attempt may be made again. */
  waitingTime(seconds: number): string {
    if (seconds < 120) return seconds === 1 ? this.text('wait.second') : this.text('wait.seconds', { count: seconds });
    return this.text('wait.minutes', { count: Math.ceil(seconds / 60) });
  }
}

export const ENGLISH = new Translator('en');
export type { MessageKey };
