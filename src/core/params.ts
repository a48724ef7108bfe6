/**
 * Request parameters as the OAuth endpoints see them.
 *
 * RFC 6749 §3.1 and §3.2: "Parameters sent without a value MUST be treated as if they were
 * omitted from the request" and "Request and response parameters MUST NOT be included more
 * than once." So empty values are dropped and repeated names are remembered, so each endpoint
 * can refuse them with `invalid_request`, except for the parameters a spec lets repeat
 * (RFC 8707 §2: `resource`).
 *
 * Parameters are kept in a Map, never in a plain object: names such as `__proto__`,
 * `constructor` or `scope[]` are ordinary (unknown, hence ignored) names, with no effect on any
 * prototype and no array or object syntax.
 */
import { InvalidRequest } from './errors.js';

/**
 * Caps on untrusted input, beyond the body size cap of the HTTP layer. The longest legitimate
 * value is an `id_token_hint` or a JWT access token (a few KiB); no request needs more than a
 * few dozen parameters (RFC 8707 `resource` may repeat, but not a hundred times).
 */
export const PARAM_LIMITS = {
  maxParameters: 100,
  maxNameLength: 128,
  maxValueLength: 8192,
} as const;

/**
 * C0 and C1 control characters, DEL, and the Unicode line and paragraph separators: none
 * belongs in any OAuth parameter (RFC 6749 Appendix A: VSCHAR = %x20-7E, NQCHAR, URI-reference),
 * and in a value that is reflected in a page or written to a log they can forge lines.
 */
const CONTROL_CHARACTER = /[\u0000-\u001F\u007F-\u009F\u2028\u2029]/;

export class Params {
  private readonly values = new Map<string, string[]>();
  /** Names (in order) whose name or some value contains a control character. */
  private readonly withControlCharacters: string[] = [];
  private count = 0;

  /** Builds Params from trusted or untrusted entries; throws `invalid_request` over the caps. */
  static fromEntries(entries: Iterable<[string, string]>): Params {
    const params = new Params();
    for (const [name, value] of entries) params.add(name, value);
    return params;
  }

  /** Parses `application/x-www-form-urlencoded` text or a URL query string. */
  static fromUrlEncoded(text: string): Params {
    return Params.fromEntries(new URLSearchParams(text));
  }

  private add(name: string, value: string): void {
    // Counted before the empty ones are dropped: `a=&a=&...` is as costly to parse.
    if (++this.count > PARAM_LIMITS.maxParameters) {
      throw new InvalidRequest(`the request has more than ${PARAM_LIMITS.maxParameters} parameters`);
    }
    if (name.length > PARAM_LIMITS.maxNameLength) {
      throw new InvalidRequest(`a parameter name is longer than ${PARAM_LIMITS.maxNameLength} characters`);
    }
    if (value.length > PARAM_LIMITS.maxValueLength) {
      throw new InvalidRequest(`parameter ${name} is longer than ${PARAM_LIMITS.maxValueLength} characters`);
    }
    if ((CONTROL_CHARACTER.test(name) || CONTROL_CHARACTER.test(value)) && !this.withControlCharacters.includes(name)) {
      this.withControlCharacters.push(name);
    }
    if (value === '') return;
    const existing = this.values.get(name);
    if (existing) existing.push(value);
    else this.values.set(name, [value]);
  }

  /** The value of a parameter sent once; the first value of a repeated one. */
  get(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }

  /** The value of a parameter the request must carry; `invalid_request` (`<name> is required`) without it. */
  require(name: string): string {
    const value = this.get(name);
    if (value === undefined) throw new InvalidRequest(`${name} is required`);
    return value;
  }

  /** Every value of a parameter that may repeat. */
  getAll(name: string): string[] {
    return this.values.get(name) ?? [];
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  isRepeated(name: string): boolean {
    return (this.values.get(name)?.length ?? 0) > 1;
  }

  names(): string[] {
    return [...this.values.keys()];
  }

  /** Every (name, value) pair, names in order of first appearance. */
  entries(): Array<[string, string]> {
    return [...this.values].flatMap(([name, values]) => values.map((value): [string, string] => [name, value]));
  }

  /** The same request seen through `names` alone: every other parameter is left out. */
  only(names: readonly string[]): Params {
    const view = new Params();
    for (const name of names) {
      const values = this.values.get(name);
      if (values) view.values.set(name, values);
    }
    view.withControlCharacters.push(...this.withControlCharacters.filter((name) => names.includes(name)));
    view.count = this.count;
    return view;
  }

  /** Throws `invalid_request` naming the first repeated parameter (RFC 6749 §3.1, §3.2). */
  assertNoDuplicates(repeatable: readonly string[] = []): void {
    for (const [name, values] of this.values) {
      if (values.length > 1 && !repeatable.includes(name))
        throw new InvalidRequest(`parameter ${name} is included more than once`);
    }
  }

  /**
   * Throws `invalid_request` when a parameter other than `exempt` ones (a password, which is
   * never shown or logged) has a control character in its name or value.
   */
  assertNoControlCharacters(exempt: readonly string[] = []): void {
    const name = this.withControlCharacters.find((candidate) => !exempt.includes(candidate));
    // asciiDescription (errors.ts) turns the control characters of the name into '?'.
    if (name !== undefined) throw new InvalidRequest(`parameter ${name} contains control characters`);
  }
}
