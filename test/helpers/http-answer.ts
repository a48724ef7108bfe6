/**
 * A raw HTTP answer for tests that send hostile or malformed requests with plain `fetch`: the
 * status, the headers, the body as text, and the body as JSON when it is JSON.
 */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown> | undefined;
}

/** Reads a response into an Answer; `json` is undefined when the body is not JSON. */
export async function readAnswer(response: Response): Promise<Answer> {
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}
