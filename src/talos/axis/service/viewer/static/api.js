// Talking to the AXIS JSON API. The API key lives in sessionStorage (this tab, this session)
// and travels only in the X-API-Key header: never in a URL, never in a log.

const KEY = "axis.apiKey";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function apiKey() {
  return sessionStorage.getItem(KEY);
}

export function setApiKey(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

// fetch() with the key; an error answer becomes an ApiError carrying the service's
// {"error": {code, message, details}} body (or a plain description when there is none).
export async function request(path, { method = "GET", body, ifMatch, as = "json" } = {}) {
  const headers = {};
  const key = apiKey();
  if (key) headers["X-API-Key"] = key;
  if (ifMatch) headers["If-Match"] = ifMatch;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  headers["X-Author"] = "viewer";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (err) {
    throw new ApiError(0, "unreachable", `the server did not answer (${err.message})`);
  }
  if (!response.ok) {
    let code = `http_${response.status}`;
    let message = `${method} ${path}: HTTP ${response.status}`;
    let details = null;
    try {
      const parsed = await response.json();
      if (parsed && parsed.error) {
        code = parsed.error.code;
        message = parsed.error.message;
        details = parsed.error.details;
      }
    } catch (_) {
      // not the service's error body: keep the plain description
    }
    throw new ApiError(response.status, code, message, details);
  }
  const etag = response.headers.get("ETag");
  let data;
  if (as === "json") {
    const text = await response.text();
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new ApiError(500, "bad_json", `${path} is not valid JSON (${err.message})`);
    }
  } else if (as === "text") data = await response.text();
  else data = await response.blob();
  return { data, etag, status: response.status };
}

export const jobPath = (jobId) => `/jobs/${encodeURIComponent(jobId)}`;
