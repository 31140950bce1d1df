/* The token's times: the "expires in" countdown and the <time> elements shown in the reader's own time zone. */
import { expiryText } from './format.js';

const TICK_MS = 500;
/** Under a minute left, the countdown turns amber (the `soon` class). */
const SOON_SECONDS = 60;

/** Shows every <time datetime> in local time, keeping the ISO value as its title. */
export function localizeTimes() {
  for (const t of document.querySelectorAll('time[datetime]')) {
    const iso = t.getAttribute('datetime');
    const d = new Date(iso);
    if (!Number.isNaN(d.getTime())) {
      t.setAttribute('title', iso);
      t.textContent = d.toLocaleString();
    }
  }
}

/**
 * Keeps `el` (#expires-in, whose data-exp holds the expiry in epoch seconds) counting down.
 * Returns the current expiry and a way to change it when the token is renewed.
 */
export function startCountdown(el) {
  const raw = el ? el.getAttribute('data-exp') : '';
  let exp = raw ? Number(raw) : NaN;
  let timer = null;

  function tick() {
    if (!el) return;
    const now = Date.now() / 1000;
    const text = expiryText(exp, now);
    el.textContent = text;
    el.classList.toggle('expired', text === 'expired');
    el.classList.toggle('soon', Number.isFinite(exp) && text !== 'expired' && exp - now < SOON_SECONDS);
  }

  function run() {
    tick();
    if (el && Number.isFinite(exp) && timer === null) timer = setInterval(tick, TICK_MS);
  }

  run();
  return {
    expiry: () => exp,
    setExpiry(value) {
      exp = Number(value);
      if (el) el.setAttribute('data-exp', String(exp));
      run();
    },
  };
}
