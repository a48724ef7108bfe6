/**
 * The column representation the repositories share (see src/store/schema.ts): JSON text for
 * lists and objects, 0/1 integers for booleans. Decoders fail loudly on corrupt data rather than
 * passing it on.
 */
import type { IntBool } from '../schema.js';

export function encodeJson(value: unknown): string {
  return JSON.stringify(value);
}

/** Decodes a JSON string array. */
export function decodeStringArray(text: string, column: string): string[] {
  const value: unknown = JSON.parse(text);
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new Error(`Corrupt ${column} value: expected a JSON array of strings`);
  }
  return value;
}

/** Decodes a JSON object (user claims). */
export function decodeObject(text: string, column: string): Record<string, unknown> {
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`Corrupt ${column} value: expected a JSON object`);
  }
  return value as Record<string, unknown>;
}

export function toIntBool(value: boolean): IntBool {
  return value ? 1 : 0;
}

export function fromIntBool(value: number): boolean {
  return value === 1;
}
