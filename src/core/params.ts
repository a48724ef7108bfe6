/**
 * Request parameters as the OAuth endpoints see them.
 *
 * RFC 6749 §3.1 and §3.2: "Parameters sent without a value MUST be treated as if they were
 * omitted from the request" and "Request and response parameters MUST NOT be included more
 * than once." So empty values are dropped and repeated names are remembered, so each endpoint
 * can refuse them with `invalid_request`.
 */
import { InvalidRequest } from './errors.js';

export class Params {
  private readonly values = new Map<string, string>();
  /** Names that appeared more than once with a non-empty value. */
  readonly duplicates: string[] = [];

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
    if (value === '') return;
    if (this.values.has(name)) {
      if (!this.duplicates.includes(name)) this.duplicates.push(name);
      return;
    }
    this.values.set(name, value);
  }

  get(name: string): string | undefined {
    return this.values.get(name);
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  names(): string[] {
    return [...this.values.keys()];
  }

  /** Throws `invalid_request` naming the first repeated parameter (RFC 6749 §3.1, §3.2). */
  assertNoDuplicates(): void {
    const [first] = this.duplicates;
    if (first !== undefined) throw new InvalidRequest(`parameter ${first} is included more than once`);
  }
}
