/* Keygate key page: copy buttons, expiry countdown, live check of GET /protected.
   Plain browser script, served as /static/key.js under a strict CSP (no inline code).
   Every DOM update goes through textContent / classList / setAttribute; data is never parsed as HTML. */
(function () {
  'use strict';

  var POLL_MS = 1000;
  var TIMEOUT_MS = 5000;

  function $(id) { return document.getElementById(id); }
  function two(n) { return (n < 10 ? '0' : '') + n; }
  function setText(el, text) { if (el) el.textContent = text; }

  /* ---------- copy ---------- */

  function textOf(el) {
    return el && 'value' in el && el.tagName === 'TEXTAREA' ? el.value : (el ? el.textContent || '' : '');
  }

  function selectContents(el) {
    if (!el) return;
    if (el.tagName === 'TEXTAREA' || el.tagName === 'INPUT') {
      el.focus();
      el.select();
      return;
    }
    var sel = window.getSelection && window.getSelection();
    if (!sel) return;
    var range = document.createRange();
    range.selectNodeContents(el);
    sel.removeAllRanges();
    sel.addRange(range);
  }

  function note(name, text) {
    var el = document.querySelector('[data-copy-note="' + name + '"]');
    if (!el) return;
    el.textContent = text;
    clearTimeout(el._keygateTimer);
    el._keygateTimer = setTimeout(function () { el.textContent = ''; }, 2500);
  }

  function fallbackCopy(name, el) {
    selectContents(el);
    var ok = false;
    try { ok = document.execCommand && document.execCommand('copy'); } catch (e) { ok = false; }
    note(name, ok ? 'Copied.' : 'Selected — press Ctrl+C (⌘C) to copy.');
  }

  function copy(name) {
    var el = $(name);
    if (!el) return;
    var text = textOf(el);
    if (navigator.clipboard && typeof navigator.clipboard.writeText === 'function' && window.isSecureContext !== false) {
      navigator.clipboard.writeText(text).then(
        function () { note(name, 'Copied.'); },
        function () { fallbackCopy(name, el); }
      );
    } else {
      fallbackCopy(name, el);
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll('button[data-copy]'), function (btn) {
    btn.addEventListener('click', function () { copy(btn.getAttribute('data-copy')); });
  });

  /* ---------- times ---------- */

  Array.prototype.forEach.call(document.querySelectorAll('time[datetime]'), function (t) {
    var d = new Date(t.getAttribute('datetime'));
    if (!isNaN(d.getTime())) {
      t.setAttribute('title', t.getAttribute('datetime'));
      t.textContent = d.toLocaleString();
    }
  });

  /* ---------- expiry countdown ---------- */

  var expEl = $('expires-in');
  var expRaw = expEl ? expEl.getAttribute('data-exp') : '';
  var exp = expRaw ? Number(expRaw) : NaN;

  function expiryText() {
    if (!isFinite(exp)) return 'no expiry claim';
    var left = Math.floor(exp - Date.now() / 1000);
    if (left <= 0) return 'expired';
    var h = Math.floor(left / 3600);
    var m = Math.floor((left % 3600) / 60);
    var s = left % 60;
    return h > 0 ? 'expires in ' + h + ':' + two(m) + ':' + two(s) : 'expires in ' + m + ':' + two(s);
  }

  function tick() {
    if (!expEl) return;
    var text = expiryText();
    expEl.textContent = text;
    expEl.classList.toggle('expired', text === 'expired');
    expEl.classList.toggle('soon', isFinite(exp) && text !== 'expired' && exp - Date.now() / 1000 < 60);
  }
  tick();
  if (expEl && isFinite(exp)) setInterval(tick, 500);

  /* ---------- renewal (REFRESH=true) ---------- */

  var tokenCard = $('token-card');
  var renewUrl = tokenCard ? tokenCard.getAttribute('data-refresh-url') : null;
  var renewBefore = tokenCard ? Number(tokenCard.getAttribute('data-refresh-before')) : NaN;
  var renewStatus = $('renew-status');
  var renewButton = $('renew');
  var renewTimer = null;
  var renewing = false;
  // Same-origin path only; the session cookie authenticates the renewal.
  if (renewUrl && !/^\/(?!\/)/.test(renewUrl)) renewUrl = null;

  function decodeSegment(segment) {
    try {
      var b64 = segment.replace(/-/g, '+').replace(/_/g, '/');
      var bytes = atob(b64 + '==='.slice((b64.length + 3) % 4));
      var text = decodeURIComponent(Array.prototype.map.call(bytes, function (c) {
        return '%' + ('0' + c.charCodeAt(0).toString(16)).slice(-2);
      }).join(''));
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch (e) {
      return '(cannot be decoded)';
    }
  }

  function showNewToken(token, expiresAt) {
    var old = (($('token') || {}).value || '').trim();
    var tokenBox = $('token');
    if (tokenBox) tokenBox.value = token;
    var curl = $('curl');
    if (curl && old) curl.textContent = (curl.textContent || '').split(old).join(token);
    var parts = token.split('.');
    setText($('token-header'), decodeSegment(parts[0] || ''));
    setText($('token-claims'), decodeSegment(parts[1] || ''));
    exp = Number(expiresAt);
    if (expEl) expEl.setAttribute('data-exp', String(exp));
    tick();
  }

  function scheduleRenew() {
    if (!renewUrl || !isFinite(exp) || !isFinite(renewBefore)) return;
    clearTimeout(renewTimer);
    // Renew `renewBefore` seconds ahead, but never more often than every 30 seconds.
    var wait = Math.max((exp - renewBefore) * 1000 - Date.now(), 30000);
    if (exp - renewBefore <= Date.now() / 1000 && !renewTimer) wait = 0;
    renewTimer = setTimeout(renew, wait);
  }

  function renew() {
    if (renewing || !renewUrl) return;
    renewing = true;
    setText(renewStatus, 'Renewing…');
    fetch(renewUrl, { method: 'POST', headers: { Accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store', redirect: 'error' })
      .then(function (res) {
        return res.text().then(function (text) {
          var body = null;
          try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
          if (res.status === 200 && body && typeof body.token === 'string') {
            showNewToken(body.token, body.expires_at);
            setText(renewStatus, 'Renewed at ' + new Date().toLocaleTimeString() + '.');
            scheduleRenew();
          } else {
            var msg = body && typeof body.error_description === 'string' ? body.error_description : 'HTTP ' + res.status;
            setText(renewStatus, 'Could not renew: ' + msg);
            if (res.status >= 500) scheduleRenew();
          }
        });
      })
      .catch(function () {
        setText(renewStatus, 'Could not renew: Keygate unreachable.');
      })
      .then(function () { renewing = false; });
  }

  if (renewButton) renewButton.addEventListener('click', renew);
  scheduleRenew();

  /* ---------- live check ---------- */

  var live = $('live');
  var tokenEl = $('token');
  if (!live || !tokenEl) return;

  var url = live.getAttribute('data-protected-url') || '/protected';
  // Same-origin only: the token must never be sent elsewhere.
  if (!/^\/(?!\/)/.test(url)) url = '/protected';

  var statusEl = $('live-status');
  var checkbox = $('logged-in');
  var loggedText = $('logged-in-text');
  var emailEl = $('live-email');
  var nameEl = $('live-name');
  var pictureEl = $('live-picture');
  var checkedEl = $('live-checked');
  var errorEl = $('live-error');
  var reloginEl = $('live-relogin');
  var rawEl = $('live-raw');
  var avatarEl = $('live-avatar');

  function initials(p) {
    var name = typeof p.name === 'string' ? p.name.trim() : '';
    if (name) {
      var words = name.split(/\s+/);
      var first = Array.from(words[0] || '')[0] || '';
      var last = words.length > 1 ? Array.from(words[words.length - 1] || '')[0] || '' : '';
      return (first + last).toUpperCase() || '?';
    }
    var src = typeof p.email === 'string' && p.email ? p.email : (typeof p.sub === 'string' ? p.sub : '');
    return (Array.from(src.trim())[0] || '?').toUpperCase();
  }

  function colorClass(seed) {
    var h = 0;
    for (var i = 0; i < seed.length; i++) h = (h * 31 + seed.charCodeAt(i)) >>> 0;
    return 'avatar-c' + (h % 6);
  }

  function setAvatar(profile) {
    if (!avatarEl) return;
    var cls = profile ? colorClass(String(profile.sub || profile.email || '')) : 'avatar-none';
    for (var i = 0; i < 6; i++) avatarEl.classList.remove('avatar-c' + i);
    avatarEl.classList.remove('avatar-none');
    avatarEl.classList.add(cls);
    avatarEl.textContent = profile ? initials(profile) : '?';
  }

  function str(v) { return typeof v === 'string' && v ? v : '—'; }

  function setState(state, statusText, loggedIn) {
    if (statusEl) {
      statusEl.textContent = statusText;
      ['pending', 'ok', 'bad', 'down'].forEach(function (c) { statusEl.classList.toggle(c, c === state); });
    }
    if (checkbox) checkbox.checked = !!loggedIn;
    setText(loggedText, loggedIn ? 'Logged in' : 'Not logged in');
    live.classList.toggle('is-logged-in', !!loggedIn);
    live.setAttribute('data-state', state);
  }

  function showProfile(p) {
    setText(emailEl, str(p && p.email));
    setText(nameEl, str(p && p.name));
    showPicture(p && p.picture);
    setAvatar(p);
  }

  var pictureImg = $('live-picture-img');
  // Pictures inside the answer (data: images) are shown; a URL to another site is shown as text and never loaded.
  var INLINE_IMAGE = /^data:image\/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+\/=]+$/;

  function showPicture(picture) {
    var inline = typeof picture === 'string' && picture.length < 200000 && INLINE_IMAGE.test(picture);
    if (pictureImg) {
      if (inline) pictureImg.setAttribute('src', picture);
      else pictureImg.removeAttribute('src');
      pictureImg.hidden = !inline;
    }
    if (avatarEl) avatarEl.hidden = inline;
    var text = inline ? '(shown)' : str(picture);
    setText(pictureEl, text.length > 120 ? text.slice(0, 117) + '…' : text);
  }

  function showError(text) {
    if (!errorEl) return;
    errorEl.textContent = text || '';
    errorEl.hidden = !text;
  }

  function stamp() { setText(checkedEl, new Date().toLocaleTimeString()); }

  function handle(res, text) {
    var body = null;
    try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
    var statusLine = 'HTTP ' + res.status + (res.statusText ? ' ' + res.statusText : '');
    if (body !== null) {
      setText(rawEl, JSON.stringify(body, null, 2));
    } else {
      setText(rawEl, text || "(empty body)");
    }
    if (res.status === 200 && body && typeof body === 'object') {
      var p = body.profile && typeof body.profile === 'object' ? body.profile
        : body.user && typeof body.user === 'object' ? body.user : body;
      setState('ok', statusLine, true);
      showProfile(p);
      showError('');
      if (reloginEl) reloginEl.hidden = true;
    } else {
      setState('bad', statusLine, false);
      showProfile(null);
      var err = body && typeof body === 'object' ? body : {};
      var msg = typeof err.error === 'string' ? err.error : '';
      if (typeof err.error_description === 'string' && err.error_description) {
        msg = msg ? msg + ': ' + err.error_description : err.error_description;
      }
      if (!msg && res.status === 401) {
        var challenge = res.headers.get('WWW-Authenticate');
        msg = challenge ? 'WWW-Authenticate: ' + challenge : 'unauthorized';
      }
      showError(msg || 'unexpected answer');
      if (reloginEl) reloginEl.hidden = !(res.status === 401 || res.status === 403);
    }
  }

  function schedule() { setTimeout(check, POLL_MS); }

  function check() {
    var token = (tokenEl.value || '').trim();
    var controller = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, TIMEOUT_MS) : null;
    var init = {
      method: 'GET',
      headers: { Authorization: 'Bearer ' + token, Accept: 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error'
    };
    if (controller) init.signal = controller.signal;
    fetch(url, init)
      .then(function (res) {
        return res.text().then(function (text) { handle(res, text); });
      })
      .catch(function (e) {
        var timedOut = e && e.name === 'AbortError';
        setState('down', 'Keygate unreachable', false);
        showError(timedOut ? 'No answer within 5 seconds.' : 'The request failed: ' + (e && e.message ? e.message : 'network error'));
        setText(rawEl, "(no answer)");
      })
      .then(function () {
        if (timer) clearTimeout(timer);
        stamp();
        schedule();
      });
  }

  check();
})();
