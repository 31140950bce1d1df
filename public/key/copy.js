/* Copy buttons: <button data-copy="ID"> copies the text of #ID and says so in [data-copy-note="ID"].
   The clipboard API needs a secure context; elsewhere the text is selected and copied the old way, or left
   selected for the user to copy. */
import { byId } from './dom.js';

const NOTE_MS = 2500;
const noteTimers = new WeakMap();

function textOf(el) {
  return el.tagName === 'TEXTAREA' ? el.value : el.textContent || '';
}

function selectContents(el) {
  if (el.tagName === 'TEXTAREA' || el.tagName === 'INPUT') {
    el.focus();
    el.select();
    return;
  }
  const selection = window.getSelection && window.getSelection();
  if (!selection) return;
  const range = document.createRange();
  range.selectNodeContents(el);
  selection.removeAllRanges();
  selection.addRange(range);
}

function note(name, text) {
  const el = document.querySelector(`[data-copy-note="${CSS.escape(name)}"]`);
  if (!el) return;
  el.textContent = text;
  clearTimeout(noteTimers.get(el));
  noteTimers.set(el, setTimeout(() => { el.textContent = ''; }, NOTE_MS));
}

function fallbackCopy(name, el) {
  selectContents(el);
  let ok = false;
  try {
    ok = Boolean(document.execCommand && document.execCommand('copy'));
  } catch {
    ok = false;
  }
  note(name, ok ? 'Copied.' : 'Selected — press Ctrl+C (⌘C) to copy.');
}

function copy(name) {
  const el = byId(name);
  if (!el) return;
  const text = textOf(el);
  if (navigator.clipboard && typeof navigator.clipboard.writeText === 'function' && window.isSecureContext !== false) {
    navigator.clipboard.writeText(text).then(
      () => note(name, 'Copied.'),
      () => fallbackCopy(name, el),
    );
  } else {
    fallbackCopy(name, el);
  }
}

export function startCopyButtons() {
  for (const button of document.querySelectorAll('button[data-copy]')) {
    button.addEventListener('click', () => copy(button.getAttribute('data-copy')));
  }
}
