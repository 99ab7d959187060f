// The API key: kept in this tab's session storage only, asked for with the key dialog when the
// gateway answers 401, and forgotten on request. While the dialog is open, polling pauses.

import { $ } from './dom.js';

const KEY_STORAGE = 'handoff.console.apiKey';
let apiKey = sessionStorage.getItem(KEY_STORAGE) ?? '';
let needKey = false;

/** The API key in use ('' when none). */
export const currentKey = () => apiKey;

/** Whether the key dialog is waiting for a key (polling pauses meanwhile). */
export const isKeyNeeded = () => needKey;

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
