/**
 * Request parameters as the OAuth endpoints see them.
 *
 * RFC 6749 §3.1 and §3.2: "Parameters sent without a value MUST be treated as if they were
 * omitted from the request" and "Request and response parameters MUST NOT be included more
 * than once." So empty values are dropped and repeated names are remembered, so each endpoint
 * can refuse them with `invalid_request`, except for the parameters a spec lets repeat
 * (RFC 8707 §2: `resource`).
 */
import { InvalidRequest } from './errors.js';

export class Params {
  private readonly values = new Map<string, string[]>();

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
    const existing = this.values.get(name);
    if (existing) existing.push(value);
    else this.values.set(name, [value]);
  }

  /** The value of a parameter sent once; the first value of a repeated one. */
  get(name: string): string | undefined {
    return this.values.get(name)?.[0];
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

  /** Throws `invalid_request` naming the first repeated parameter (RFC 6749 §3.1, §3.2). */
  assertNoDuplicates(repeatable: readonly string[] = []): void {
    for (const [name, values] of this.values) {
      if (values.length > 1 && !repeatable.includes(name)) throw new InvalidRequest(`parameter ${name} is included more than once`);
    }
  }
}
