/*
 * The admin REST API (/v1/admin/...) as the review page calls it: the key travels in the
 * Authorization header (never a cookie), answers are JSON, and a failure is an ApiError
 * with the service's error code.
 */

export const API = "/v1/admin";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The ApiError of a failed response: its JSON error body, else its status line. */
export function errorOf(status, statusText, data) {
  let code = `http_${status}`;
  let message = statusText || `HTTP ${status}`;
  if (data && data.error) {
    code = data.error.code || code;
    message = data.error.message || message;
  } else if (data && data.detail) {
    message = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail);
  }
  return new ApiError(status, code, message);
}

/** What a failure says to the reviewer, e.g. "Could not load the batches: ... [code]." */
export function failureText(err, doing) {
  if (err instanceof ApiError) {
    const why = {
      403: "your key's role may not do this",
      404: "it no longer exists",
      429: "too many attempts; wait a minute and try again",
    }[err.status];
    return `Could not ${doing}: ${err.message}${why ? ` (${why})` : ""}. [${err.code}]`;
  }
  return `Could not ${doing}: ${(err && err.message) || err}.`;
}

/** Calls the API with ``key``; the parsed JSON, or with ``raw`` the response itself. */
export async function request(path, { method = "GET", body, key, raw = false } = {}) {
  const headers = { Authorization: `Bearer ${key}`, Accept: raw ? "*/*" : "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch (_) {
    throw new ApiError(0, "network", "the server could not be reached");
  }
  if (!response.ok) {
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      /* not JSON: keep the status line */
    }
    throw errorOf(response.status, response.statusText, data);
  }
  return raw ? response : response.json();
}
