/* Keygate key page, entry module. Served as /static/key.js and loaded with <script type="module"> under the strict
   CSP (script-src 'self'): this file and the modules it imports from /static/key/, nothing inline.
   Every DOM update goes through textContent / classList / setAttribute; data is never parsed as HTML. */
import { startCopyButtons } from './key/copy.js';
import { localizeTimes, startCountdown } from './key/countdown.js';
import { startLiveCheck } from './key/live.js';
import { startRenewal } from './key/renew.js';
import { startSessions } from './key/sessions.js';

startCopyButtons();
localizeTimes();
const countdown = startCountdown(document.getElementById('expires-in'));
startRenewal(countdown);
startLiveCheck();
startSessions();
