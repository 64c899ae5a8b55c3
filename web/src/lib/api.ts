// Requests to the gridgov server: same origin, the session cookie, problem+json errors.

import { loginUrl } from './pages';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly url: string,
    readonly detail: string,
  ) {
    super(`${url}: HTTP ${status}${detail ? `: ${detail}` : ''}`);
  }

  /** The route does not exist on this server (yet): 404 on a route, not on an item. */
  get missing(): boolean {
    return this.status === 404;
  }
}

interface Problem {
  title?: string;
  detail?: string;
  errors?: Array<{ name?: string; field?: string; message?: string; reason?: string }>;
}

async function problemText(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as Problem;
    const parts = [body.detail ?? body.title ?? ''];
    for (const e of body.errors ?? []) parts.push(`${e.name ?? e.field ?? ''}: ${e.message ?? e.reason ?? ''}`);
    return parts.filter((p) => p).join('; ');
  } catch {
    return response.statusText;
  }
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  json?: unknown;
  /** On 401, go to the sign-in page (default); false for the sign-in itself. */
  signInOn401?: boolean;
  signal?: AbortSignal;
}

/** Sends a request and parses the JSON answer; throws HttpError on a status >= 400. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json, application/geo+json, application/problem+json' };
  const init: RequestInit = { method: options.method ?? 'GET', headers, credentials: 'same-origin' };
  if (options.signal) init.signal = options.signal;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.json);
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    if (response.status === 401 && options.signInOn401 !== false) {
      location.assign(loginUrl());
    }
    throw new HttpError(response.status, path, await problemText(response));
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** Builds a query string from the defined values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
