// The API key: kept in this tab's session storage only, asked for with the key dialog when the
// gateway answers 401, and forgotten on request. While the dialog is open, polling pauses.
// Without a key, whether the gateway wants one is unknown until it answers: one call goes out
// first (`claimCall`), and the others wait for its answer — a 401 opens the dialog, a success
// says no key is needed — so a gateway with keys sees one unauthenticated call, not one per poller.

import { $ } from './dom.js';

const KEY_STORAGE = 'handoff.console.apiKey';
let apiKey = sessionStorage.getItem(KEY_STORAGE) ?? '';
let needKey = false;
/** Set once a call without a key succeeded: the gateway runs without authentication. */
let noKeyNeeded = false;
/** True while the one call without a key (whose answer says whether a key is needed) is out. */
let probing = false;

/** The API key in use ('' when none). */
export const currentKey = () => apiKey;

/** Whether the key dialog is waiting for a key (polling pauses meanwhile). */
export const isKeyNeeded = () => needKey;

/**
 * Whether a call may go out now: always with a key or once no key is needed; without a key, only
 * one at a time until the gateway has answered one. Returns 'call', 'probe' (the caller must call
 * `probeAnswered` when its call is done) or false.
 */
export function claimCall() {
  if (apiKey || noKeyNeeded) return 'call';
  if (probing) return false;
  probing = true;
  return 'probe';
}

/** The call without a key is done; `ok` when the gateway took it (so it needs no key). */
export function probeAnswered(ok) {
  probing = false;
  if (ok && !apiKey) noKeyNeeded = true;
}

/** Whether the gateway answered a call without a key (it runs without authentication). */
export const isNoKeyNeeded = () => noKeyNeeded;

/** Opens the key dialog, with `message` as its error line (none when empty). */
export function askForKey(message) {
  needKey = true;
  $('key-dialog').hidden = false;
  $('key-error').hidden = !message;
  $('key-error').textContent = message;
  $('api-key').focus();
}

/** Wires the key dialog and the "forget key" button; `onSaved` runs after a key is entered. */
export function initKeyDialog({ onSaved }) {
  const save = () => {
    apiKey = $('api-key').value.trim();
    if (apiKey) sessionStorage.setItem(KEY_STORAGE, apiKey);
    else sessionStorage.removeItem(KEY_STORAGE);
    $('api-key').value = '';
    $('key-dialog').hidden = true;
    $('forget-key').hidden = !apiKey;
    needKey = false;
    onSaved();
  };
  $('api-key-save').addEventListener('click', save);
  $('api-key').addEventListener('keydown', (event) => event.key === 'Enter' && save());
  $('forget-key').addEventListener('click', () => {
    sessionStorage.removeItem(KEY_STORAGE);
    apiKey = '';
    $('forget-key').hidden = true;
    askForKey('');
  });
}

/** Shows the "forget key" button when a key is stored. */
export function showForgetKey() {
  $('forget-key').hidden = !apiKey;
}
