// The only code that calls `fetch` (STYLE.md §6): the bearer token on every call, the API's
// JSON errors turned into `ApiError` (code, message, request id), and a 401 on an
// authenticated call ending the session so the router shows the login page.
import { getSession, setSession } from "./session";

export const API_BASE = "/api/v1";

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | null;

  constructor(status: number, code: string, message: string, requestId: string | null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

interface ErrorBody {
  error?: { code?: string; message?: string; request_id?: string };
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | undefined | null>;
  /** Login calls carry no token, and their 401 means "wrong password", not "session over". */
  anonymous?: boolean;
  signal?: AbortSignal;
}

export function buildUrl(path: string, query?: RequestOptions["query"]): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const search = params.toString();
  return `${API_BASE}${path}${search ? `?${search}` : ""}`;
}

async function send(path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const session = getSession();
  if (!options.anonymous && session) headers.Authorization = `Bearer ${session.token}`;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    // Absolute, so that the same code runs under test runners whose fetch has no base URL.
    const url = new URL(buildUrl(path, options.query), window.location.origin);
    response = await fetch(url, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "NetworkError", "the console API cannot be reached", null);
  }
  if (response.ok) return response;
  throw await errorOf(response, options);
}

async function errorOf(response: Response, options: RequestOptions): Promise<ApiError> {
  let body: ErrorBody = {};
  try {
    body = (await response.json()) as ErrorBody;
  } catch {
    // Not JSON (a proxy's error page): the status text below stands in.
  }
  const requestId = response.headers.get("x-request-id") ?? body.error?.request_id ?? null;
  const error = new ApiError(
    response.status,
    body.error?.code ?? `HTTP${response.status}`,
    body.error?.message ?? (response.statusText || `HTTP ${response.status}`),
    requestId,
  );
  if (response.status === 401 && !options.anonymous && getSession()) setSession(null);
  return error;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** A file answer (the audit export), for a download the browser saves. */
export async function requestBlob(path: string, options: RequestOptions = {}): Promise<Blob> {
  const response = await send(path, options);
  return response.blob();
}
