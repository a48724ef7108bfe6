/**
 * Reads and validates a Gatehouse config file (YAML or JSON) against the settings schema
 * (src/config/settings-schema.ts). Every error names the exact key path (e.g. `clients[1].redirect_uris[0]`),
 * what is expected there and its line and column, and all of them are reported at once (a key's
 * error does not hide the next key's), an unknown key with the known key it most likely meant.
 * Clients are validated by the same rules as every other registration
 * (src/core/registration/client-metadata.ts).
 */
import { validateScopeDescriptions } from './scope-descriptions.js';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { TSchema } from '@sinclair/typebox';
import { LineCounter, isMap, isSeq, parseDocument, type Document } from 'yaml';
import { CLIENT_METADATA_FIELDS, validateClientMetadata } from '../core/registration/client-metadata.js';
import type { OutboundPolicy } from '../core/outbound/safe-fetch.js';
import { SETTABLE_CLAIMS, isEmailAddress, validateUserClaims } from '../core/users/user-claims.js';
import {
  CONFIG_SCHEMA,
  ConfigError,
  META,
  enumValues,
  trustProxyProblem,
  type ConfigFile,
  type SettingMeta,
} from './settings-schema.js';
import { clientFixtureOf } from './client-fixture.js';
import { closestKey } from './closest-key.js';
import type { ClientFixture, ResourceFixture, UserFixture } from './settings.js';
import { ClientMetadataError, UserClaimError } from '../core/errors.js';

export { ConfigError, metricsTokenProblem, trustProxyProblem, type ConfigFile } from './settings-schema.js';

/** Every top-level key of a config file (the documentation names each: test/config/readme-config.test.ts), from the schema. */
export const TOP_LEVEL_KEYS = Object.keys(CONFIG_SCHEMA.properties) as (keyof typeof CONFIG_SCHEMA.properties)[];
// OpenID Connect Core §5.1 standard claims besides the login credentials.
export const USER_KEYS = ['username', 'password', 'email', 'name', ...SETTABLE_CLAIMS] as const;
/** The brute-force limits (src/core/limits/attempt-limits.ts) under `limits:`, from the schema. */
export const LIMIT_NAMES = Object.keys(
  CONFIG_SCHEMA.properties.limits.properties,
) as (keyof typeof CONFIG_SCHEMA.properties.limits.properties)[];
export type LimitName = (typeof LIMIT_NAMES)[number];
export type LimitConfig = NonNullable<NonNullable<ConfigFile['limits']>[LimitName]>;
const RESOURCE_KEYS = ['resource', 'name', 'scopes', 'introspection_client_ids', 'scope_descriptions'] as const;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return `a ${typeof value}`;
}

/** Joins a key path: `clients[1]` + `redirect_uris[0]`. */
function joinPath(base: string, field: string): string {
  if (field === '') return base;
  if (base === '') return field;
  return field.startsWith('[') ? `${base}${field}` : `${base}.${field}`;
}

/** A line and column (1-based) in the config file. */
export interface TextPosition {
  line: number;
  col: number;
}

class Validator {
  /** Every problem found so far, in the order of the file's keys. */
  readonly problems: ConfigError[] = [];

  constructor(
    private readonly file: string,
    /** The position of a key path in the file, when known. */
    private readonly positionOf: (keyPath: string) => TextPosition | undefined = () => undefined,
  ) {}

  error(keyPath: string, message: string): ConfigError {
    return new ConfigError(`Invalid config file ${this.file}: ${this.describeProblem(keyPath, message)}`, keyPath);
  }

  /** `key.path message (line L, column C)`: one problem, without the file name. */
  describeProblem(keyPath: string, message: string): string {
    const position = keyPath === '' ? undefined : this.positionOf(keyPath);
    const at = position === undefined ? '' : ` (line ${position.line}, column ${position.col})`;
    return `${keyPath === '' ? '' : `${keyPath} `}${message}${at}`;
  }

  /** Runs one validation step; a ConfigError it throws is recorded and the walk goes on. */
  collect<T>(step: () => T): T | undefined {
    try {
      return step();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      this.problems.push(error);
      return undefined;
    }
  }

  /** Records every key of `value` that is not in `allowed`, with the closest known key. */
  checkKeys(value: Record<string, unknown>, allowed: readonly string[], base: string): void {
    for (const key of Object.keys(value)) {
      if (allowed.includes(key)) continue;
      const guess = closestKey(key, allowed);
      const hint = guess === undefined ? '' : `did you mean ${guess}? `;
      this.problems.push(
        this.error(joinPath(base, key), `is not a known key (${hint}expected one of: ${allowed.join(', ')})`),
      );
    }
  }

  /**
   * Throws what was collected: one problem as it is, several as one error listing each in the
   * order of the file (a problem without a position last); its key path is that of the problem
   * found first.
   */
  throwCollected(): void {
    const offset = (problem: ConfigError): number => {
      const position = problem.keyPath ? this.positionOf(problem.keyPath) : undefined;
      return position === undefined ? Number.MAX_SAFE_INTEGER : position.line * 1e6 + position.col;
    };
    const [first] = this.problems;
    if (first === undefined) return;
    const problems = [...this.problems].sort((a, b) => offset(a) - offset(b));
    if (problems.length === 1) throw first;
    const prefix = `Invalid config file ${this.file}: `;
    const lines = problems.map((problem) => `  - ${problem.message.slice(prefix.length)}`);
    throw new ConfigError(`${prefix}${problems.length} problems\n${lines.join('\n')}`, first.keyPath);
  }

  string(value: unknown, keyPath: string, options: { nonEmpty?: boolean } = {}): string {
    if (typeof value !== 'string') throw this.error(keyPath, `must be a string, not ${describe(value)}`);
    if (options.nonEmpty && value.trim() === '') throw this.error(keyPath, 'must be a non-empty string');
    return value;
  }

  integer(value: unknown, keyPath: string, min: number, max: number, unit = ''): number {
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw this.error(keyPath, `must be an integer${unit}, not ${describe(value)}`);
    }
    if (value < min || value > max) throw this.error(keyPath, `must be between ${min} and ${max}${unit}, not ${value}`);
    return value;
  }
}

/** Parses the text of a config file; `.json` as JSON, anything else as YAML (a superset of JSON). */
export function parseConfigText(text: string, file: string): unknown {
  return parseConfig(text, file).data;
}

/**
 * The parsed data, and the position of each key path (for error messages). JSON is checked by
 * JSON.parse and then read as YAML (a superset of JSON) for the positions.
 */
function parseConfig(
  text: string,
  file: string,
): { data: unknown; positionOf?: (keyPath: string) => TextPosition | undefined } {
  if (extname(file).toLowerCase() === '.json') {
    try {
      JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`Invalid config file ${file}: not valid JSON (${(error as Error).message})`);
    }
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  const [first] = document.errors;
  if (first) {
    const line = first.linePos?.[0];
    const where = line ? ` at line ${line.line}, column ${line.col}` : '';
    // The pretty message repeats the position and adds a source excerpt; keep the first clause.
    const message = (first.message.split('\n')[0] ?? first.message).replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError(`Invalid config file ${file}: not valid YAML${where} (${message})`);
  }
  return {
    data: document.toJS() as unknown,
    positionOf: (keyPath) => positionOfKeyPath(document, lineCounter, keyPath),
  };
}

/**
 * The position of a key path (`clients[1].redirect_uris[0]`, `limits.login_ip.lock_after`) in a
 * YAML or JSON document: that of its key, or of the list item; as deep as the document goes.
 */
export function positionOfKeyPath(
  document: Document,
  lineCounter: LineCounter,
  keyPath: string,
): TextPosition | undefined {
  const segments = keyPath.match(/[^.[\]]+|\[\d+\]/g) ?? [];
  let node: unknown = document.contents;
  let offset: number | undefined;
  for (const segment of segments) {
    if (segment.startsWith('[')) {
      if (!isSeq(node)) break;
      node = node.items[Number(segment.slice(1, -1))];
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (!range) break;
      offset = range[0];
    } else {
      if (!isMap(node)) break;
      const pair = node.items.find(
        (item) => String((item.key as { value?: unknown } | null)?.value ?? item.key) === segment,
      );
      if (!pair) break;
      const range = (pair.key as { range?: [number, number, number] } | null)?.range;
      if (range) offset = range[0];
      node = pair.value;
    }
  }
  return offset === undefined ? undefined : lineCounter.linePos(offset);
}

/**
 * Validates parsed config data; `file` is only used in error messages, `positionOf` adds the line
 * and column of a key path. Throws one ConfigError naming every problem found.
 */
export function validateConfig(
  data: unknown,
  file: string,
  positionOf?: (keyPath: string) => TextPosition | undefined,
): ConfigFile {
  const v = new Validator(file, positionOf);
  // An empty YAML document is an empty configuration.
  if (data === null || data === undefined) return {};
  if (!isRecord(data)) throw v.error('', `must contain a mapping of settings at the top level, not ${describe(data)}`);
  const config: Record<string, unknown> = {};
  validateObject(v, CONFIG_SCHEMA, data, '', config, config);
  v.throwCollected();
  return config as ConfigFile;
}

/**
 * Walks one object of the schema: unknown keys are errors, each known key is validated by its
 * schema node. `root` is the config validated so far (for the checks that look at other keys).
 */
function validateObject(
  v: Validator,
  schema: TSchema,
  value: Record<string, unknown>,
  base: string,
  into: Record<string, unknown>,
  root: Record<string, unknown>,
): void {
  const properties = schema.properties as Record<string, TSchema>;
  v.checkKeys(value, Object.keys(properties), base);
  for (const [name, node] of Object.entries(properties)) {
    const item = value[name];
    if (item === undefined) continue;
    const keyPath = joinPath(base, name);
    const list = node['x-list'] as 'clients' | 'users' | 'resources' | undefined;
    v.collect(() => {
      if (list === 'clients')
        into[name] = validateClients(v, item, {
          allowPrivateAddresses: root.outbound_allow_private_addresses === true,
        });
      else if (list === 'users') into[name] = validateUsers(v, item);
      else if (list === 'resources') into[name] = validateResources(v, item);
      else if (node[META] !== undefined) into[name] = validateSetting(v, node, item, keyPath, root);
      else {
        // A group of settings (limits, and each limit). A group with a shorthand key (`x-shorthand`)
        // also takes a boolean: `inspector: true` is `inspector: { enabled: true }`.
        const shorthand = node['x-shorthand'] as string | undefined;
        const given = shorthand !== undefined && typeof item === 'boolean' ? { [shorthand]: item } : item;
        if (!isRecord(given))
          throw v.error(
            keyPath,
            `must be ${shorthand !== undefined ? 'true, false or ' : ''}a mapping of ${Object.keys(node.properties as object).join(', ')}, not ${describe(item)}`,
          );
        const group: Record<string, unknown> = {};
        validateObject(v, node, given, keyPath, group, root);
        into[name] = group;
      }
    });
  }
}

/** One setting: its JSON Schema type and range, then the rule of its `check`. */
function validateSetting(
  v: Validator,
  node: TSchema,
  value: unknown,
  keyPath: string,
  root: Record<string, unknown>,
): unknown {
  const meta = node[META] as SettingMeta;
  let result: unknown;
  if (node['x-trust-proxy']) result = validateTrustProxy(v, value, keyPath);
  else if (enumValues(node) !== undefined) {
    const allowed = enumValues(node)!;
    if (typeof value !== 'string' || !allowed.includes(value)) {
      throw v.error(
        keyPath,
        `must be one of ${allowed.join(', ')}, not ${typeof value === 'string' ? JSON.stringify(value) : describe(value)}`,
      );
    }
    result = value;
  } else if (node.type === 'array') result = validateStringList(v, node, value, keyPath);
  else if (node.type === 'integer')
    result = v.integer(value, keyPath, node.minimum as number, node.maximum as number, meta.unit);
  else if (node.type === 'string') result = v.string(value, keyPath, { nonEmpty: (node.minLength ?? 0) > 0 });
  else if (node.type === 'boolean') {
    if (typeof value !== 'boolean') throw v.error(keyPath, `must be true or false, not ${describe(value)}`);
    result = value;
  } else throw new Error(`settings schema: no validation for ${keyPath}`);
  const problem = meta.check?.(result, root);
  if (problem) throw v.error(keyPath, problem);
  return result;
}

/** A list of non-empty strings, each matching the items' `pattern` or, with `format: uri`, an absolute URI. */
function validateStringList(v: Validator, node: TSchema, value: unknown, keyPath: string): string[] {
  if (!Array.isArray(value)) throw v.error(keyPath, `must be a list of strings, not ${describe(value)}`);
  const items = node.items as TSchema;
  return value.map((item, index) => {
    const itemPath = `${keyPath}[${index}]`;
    const text = v.string(item, itemPath, { nonEmpty: true });
    if (typeof items.pattern === 'string' && !new RegExp(items.pattern).test(text))
      throw v.error(itemPath, `${JSON.stringify(text)} is not a valid value here`);
    if (items.format === 'uri' && !URL.canParse(text)) throw v.error(itemPath, 'must be an absolute URI');
    return text;
  });
}

/** true, false, a hop count, or proxy addresses/CIDR ranges (a list or a comma-separated string). */
function validateTrustProxy(v: Validator, value: unknown, keyPath: string): boolean | number | string {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return v.integer(value, keyPath, 1, 100, ' (proxy hops)');
  if (typeof value === 'string' || (Array.isArray(value) && value.every((item) => typeof item === 'string'))) {
    const text = Array.isArray(value) ? value.join(',') : value;
    const problem = trustProxyProblem(text);
    if (problem !== undefined) throw v.error(keyPath, problem);
    return text;
  }
  throw v.error(
    keyPath,
    `must be true, false, a number of proxy hops, or a list of proxy addresses or CIDR ranges, not ${describe(value)}`,
  );
}

/**
 * A fixture list (`clients`, `resources`, `users`): a list of mappings of the given keys, each
 * validated by `item` at its key path (`users[2]`). `item` names the identity of its entry with
 * `unique(key, id)`; an identity that repeats one of an earlier entry is an error.
 */
function validateList<T>(
  v: Validator,
  value: unknown,
  list: 'clients' | 'resources' | 'users',
  expected: { list: string; item: string; keys: readonly string[] },
  item: (entry: Record<string, unknown>, base: string, unique: (key: string, id: string) => void) => T,
): T[] {
  if (!Array.isArray(value)) throw v.error(list, `must be a list of ${expected.list}, not ${describe(value)}`);
  const seen = new Map<string, number>();
  // Each entry is checked even when an earlier one failed: every problem is reported at once.
  const entries = value.map((entry, index) =>
    v.collect(() => {
      const base = `${list}[${index}]`;
      if (!isRecord(entry)) throw v.error(base, `must be a mapping ${expected.item}, not ${describe(entry)}`);
      v.checkKeys(entry, expected.keys, base);
      const unique = (key: string, id: string): void => {
        const previous = seen.get(id);
        if (previous !== undefined)
          throw v.error(joinPath(base, key), `duplicates ${list}[${previous}].${key} ${JSON.stringify(id)}`);
        seen.set(id, index);
      };
      return item(entry, base, unique);
    }),
  );
  return entries.filter((entry): entry is T => entry !== undefined);
}

function validateClients(v: Validator, value: unknown, outbound: OutboundPolicy): ClientFixture[] {
  const expected = { list: 'client metadata mappings', item: 'of client metadata', keys: CLIENT_METADATA_FIELDS };
  return validateList(v, value, 'clients', expected, (item, base, unique) => {
    // Fixtures are applied idempotently by client_id, so it cannot be generated here.
    if (item.client_id === undefined)
      throw v.error(joinPath(base, 'client_id'), 'is required for a client in the config file');
    let validated;
    try {
      validated = validateClientMetadata(item, outbound);
    } catch (error) {
      if (error instanceof ClientMetadataError)
        throw v.error(joinPath(base, error.field), `is invalid: ${error.message}`);
      throw error;
    }
    const clientId = validated.client_id as string;
    unique('client_id', clientId);
    // A private_key_jwt client authenticates with its key (RFC 7523 §2.2), every other confidential one with its secret.
    const keyAuthenticated = validated.token_endpoint_auth_method === 'private_key_jwt';
    if (validated.token_endpoint_auth_method !== 'none' && !keyAuthenticated && validated.client_secret === undefined) {
      throw v.error(
        joinPath(base, 'client_secret'),
        'is required for a confidential client in the config file (it could never authenticate otherwise); or set token_endpoint_auth_method: none for a public client',
      );
    }
    return clientFixtureOf({ ...validated, client_id: clientId });
  });
}

function validateResources(v: Validator, value: unknown): ResourceFixture[] {
  const expected = { list: 'resource mappings', item: 'with resource and scopes', keys: RESOURCE_KEYS };
  return validateList(v, value, 'resources', expected, (item, base, unique) => {
    if (item.resource === undefined) throw v.error(`${base}.resource`, 'is required');
    const resource = v.string(item.resource, `${base}.resource`, { nonEmpty: true });
    const problem = resourceIdentifierProblem(resource);
    if (problem) throw v.error(`${base}.resource`, problem);
    unique('resource', resource);
    const list = (key: 'scopes' | 'introspection_client_ids'): string[] => {
      const raw = item[key];
      if (raw === undefined) return [];
      if (!Array.isArray(raw)) throw v.error(`${base}.${key}`, `must be a list of strings, not ${describe(raw)}`);
      return raw.map((entry, i) => v.string(entry, `${base}.${key}[${i}]`, { nonEmpty: true }));
    };
    const fixture: ResourceFixture = {
      resource,
      scopes: list('scopes'),
      introspection_client_ids: list('introspection_client_ids'),
    };
    if (item.name !== undefined) fixture.name = v.string(item.name, `${base}.name`, { nonEmpty: true });
    if (item.scope_descriptions !== undefined) {
      fixture.scope_descriptions = validateScopeDescriptions(
        item.scope_descriptions,
        `${base}.scope_descriptions`,
        fixture.scopes,
        (path, problem) => {
          throw v.error(path, problem);
        },
      );
    }
    return fixture;
  });
}

/** RFC 8707 §2: an absolute URI without a fragment; undefined when the identifier is valid. */
export function resourceIdentifierProblem(resource: string): string | undefined {
  let url: URL;
  try {
    url = new URL(resource);
  } catch {
    return `must be an absolute URI (RFC 8707 §2), not ${JSON.stringify(resource)}`;
  }
  if (resource.includes('#') || url.hash !== '') return 'must not contain a fragment (RFC 8707 §2)';
  return undefined;
}

function validateUsers(v: Validator, value: unknown): UserFixture[] {
  const expected = { list: 'user mappings', item: 'with username and password', keys: USER_KEYS };
  return validateList(v, value, 'users', expected, (item, base, unique) => {
    if (item.username === undefined) throw v.error(`${base}.username`, 'is required');
    if (item.password === undefined) throw v.error(`${base}.password`, 'is required');
    const username = v.string(item.username, `${base}.username`, { nonEmpty: true });
    if (username.trim() !== username || /[\x00-\x1F\x7F]/.test(username)) {
      throw v.error(`${base}.username`, 'must not have leading or trailing spaces or control characters');
    }
    unique('username', username);
    const password = v.string(item.password, `${base}.password`);
    if (password.length === 0) throw v.error(`${base}.password`, 'must be a non-empty string');
    const user: UserFixture = { username, password };
    if (item.email !== undefined) {
      const email = v.string(item.email, `${base}.email`, { nonEmpty: true });
      if (!isEmailAddress(email))
        throw v.error(`${base}.email`, `must be an email address, not ${JSON.stringify(email)}`);
      user.email = email;
    }
    if (item.name !== undefined) user.name = v.string(item.name, `${base}.name`, { nonEmpty: true });
    // OIDC Core §5.1: given_name, family_name, email_verified, phone_number, phone_number_verified, address.
    let claims: Record<string, unknown>;
    try {
      claims = validateUserClaims(item);
    } catch (error) {
      if (error instanceof UserClaimError) throw v.error(`${base}.${error.field}`, `is invalid: ${error.message}`);
      throw error;
    }
    Object.assign(user, claims);
    return user;
  });
}

/** Reads a YAML (`.yaml`/`.yml`) or JSON (`.json`) config file; other extensions are read as YAML. */
export async function loadConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new ConfigError(`Cannot read config file ${path}: ${reason}`);
  }
  const { data, positionOf } = parseConfig(text, path);
  return validateConfig(data, path, positionOf);
}
