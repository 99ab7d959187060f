// Calls to the gateway's authenticated /v1 API: JSON requests with the API key, the errors they
// raise, and the connection indicator in the top bar. A 401 opens the key dialog.

import { askForKey, currentKey } from './api-key.js';
import { $ } from './dom.js';

/** The API's base URL, relative to the page so that it works behind a proxy that mounts the gateway under a path. */
const API = new URL('../v1/', location.href);

/** Thrown by `api` on a 401 (after opening the key dialog). */
export class AuthError extends Error {}

/** The URL of an API path such as `conversations/c_1/events`. */
export const apiUrl = (path) => new URL(path, API);

/** Request headers: `extra`, plus the Authorization header when a key is set. */
export function authHeaders(extra = {}) {
  const apiKey = currentKey();
  return apiKey ? { ...extra, authorization: `Bearer ${apiKey}` } : { ...extra };
}

/** Asks for a key because the gateway answered 401 (saying so when a key was already sent). */
export const askForKeyAfter401 = () => askForKey(currentKey() ? 'The API key was not accepted.' : '');

/** Fetches an API path and returns its JSON body; throws AuthError on 401, and an Error with `code` and `status` on other failures. */
export async function api(path, init = {}) {
  let response;
  try {
    response = await fetch(apiUrl(path), { ...init, headers: authHeaders(init.headers) });
  } catch (error) {
    setConnection('gateway unreachable', 'bad');
    throw error;
  }
  if (response.status === 401) {
    askForKeyAfter401();
    throw new AuthError('unauthorized');
  }
  if (!response.ok) {
    let body;
    try {
      body = await response.json();
    } catch {
      body = undefined;
    }
    const error = new Error(body?.error?.message ?? `HTTP ${response.status}`);
    error.code = body?.error?.code;
    error.status = response.status;
    throw error;
  }
  return response.json();
}

/** POSTs `body` as JSON to an API path and returns the JSON answer. */
export const post = (path, body) => api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });

/** Sets the connection indicator in the top bar (`kind`: 'ok' or 'bad'). */
export function setConnection(text, kind) {
  const node = $('connection');
  node.textContent = text;
  node.className = `connection ${kind}`;
}
