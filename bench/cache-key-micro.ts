/**
 * `node --import tsx bench/cache-key-micro.ts`: what the token cache's Map lookup costs per request, in-process, for
 * ways of keying it. Every lookup gets a new string, as the HTTP parser hands one per request: keyed by the whole
 * ~650-character token (hashed character by character each time), by its last 43 characters plus a comparison with
 * the stored string (what `src/token/cache.ts` does), or by a 48-bit number read from those characters (an
 * alternative considered). MICRO_LOOKUPS (400000) per variant, for 1 and 10,000 cached tokens.
 */
import { randomBytes } from 'node:crypto';

const N = 10_000;
const LENGTH = 650;
const LOOKUPS = Number(process.env.MICRO_LOOKUPS ?? 400_000);
const tokens = Array.from({ length: N }, () => randomBytes(LENGTH).toString('base64url').slice(0, LENGTH));
const headers = tokens.map((t) => Buffer.from(`Bearer ${t}`));
const SEXTET = new Uint8Array(128);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].entries()) SEXTET[c.charCodeAt(0)] = i;
const numberKey = (t: string) => {
  let k = 0;
  for (let i = t.length - 8; i < t.length; i++) k = k * 64 + SEXTET[t.charCodeAt(i) & 127]!;
  return k;
};
const whole = new Map(tokens.map((t) => [t, { raw: t }]));
const tail = new Map(tokens.map((t) => [t.slice(-43), { raw: t }]));
const numbered = new Map(tokens.map((t) => [numberKey(t), { raw: t }]));

const variants: Array<[string, (raw: string) => boolean]> = [
  ['no lookup (the new string alone)', (raw) => raw.length > 0],
  ['whole token as the key', (raw) => whole.get(raw) !== undefined],
  ['last 43 characters, then compare', (raw) => tail.get(raw.slice(-43))?.raw === raw],
  ['48-bit number, then compare', (raw) => numbered.get(numberKey(raw))?.raw === raw],
];
for (let round = 0; round < 3; round++) {
  for (const n of [1, N]) {
    for (const [label, lookup] of variants) {
      let hits = 0;
      const start = process.hrtime.bigint();
      for (let i = 0; i < LOOKUPS; i++) if (lookup(headers[i % n]!.toString('latin1', 7))) hits++;
      const ns = Number(process.hrtime.bigint() - start) / LOOKUPS;
      if (hits !== LOOKUPS) throw new Error(`${label}: ${hits} hits of ${LOOKUPS}`);
      if (round === 2) console.log(`${String(n).padStart(5)} cached  ${label.padEnd(36)} ${ns.toFixed(0).padStart(5)} ns per lookup`);
    }
  }
}
