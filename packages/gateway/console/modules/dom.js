// DOM helpers shared by every part of the console: element lookup, HTML and SVG element
// construction, and the toast that reports the outcome of an action.

const SVGNS = 'http://www.w3.org/2000/svg';

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** A new HTML element with an optional class name and text. */
export function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** A new SVG element with these attributes (null and undefined ones left out) and optional text. */
export function s(tag, attrs = {}, text) {
  const node = document.createElementNS(SVGNS, tag);
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

/** Shows `message` for a few seconds at the bottom of the page (longer, and in red, when `bad`). */
export function toast(message, bad = false) {
  const node = $('toast');
  node.textContent = message;
  node.className = bad ? 'toast bad' : 'toast';
  node.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (node.hidden = true), bad ? 6_000 : 3_000);
}
