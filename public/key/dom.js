/* The two DOM helpers every key-page module uses. Text only: nothing here parses HTML. */

export function byId(id) {
  return document.getElementById(id);
}

export function setText(el, text) {
  if (el) el.textContent = text;
}
