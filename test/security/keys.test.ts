import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LIMITS } from '../../src/keygate/validate.js';

const JWKS_COOLDOWN_MS = LIMITS.jwksCooldownMs[0];
import { flipByte, startHostileOp, type HostileOp } from './hostile-op.js';
import { DOORS, keygateAgainst, protectedCall, type KeygateUnderTest } from './harness.js';
import { makeKey } from './jws.js';

/** Keys and JWKS faults (KJ-*): REQUIRE_SESSION=false, so the verifier and the key set alone decide. */
// Every case runs at two doors: Keygate's server and a user's own API with the library (createKeygate).
for (const door of DOORS) {
  describe(`keys and JWKS faults (${door})`, () => {
    const against: typeof keygateAgainst = (op, env, deps, now) => keygateAgainst(op, env, deps, now, door);
    let op: HostileOp;
    const open: KeygateUnderTest[] = [];
    const start = async (cooldownMs?: number) => {
      // The failed-attempt limit is off: KJ-03 sends 1,000 failures from one address on purpose.
      const kg = await against(op, { REQUIRE_SESSION: 'false', PROVIDER_TIMEOUT_MS: '400', RATE_LIMIT_BEARER_FAILURES: 'off' }, cooldownMs === undefined ? {} : { jwksCooldownMs: cooldownMs });
      open.push(kg);
      return kg;
    };
    const jwksFetches = () => op.hits.get('/jwks') ?? 0;
    const status = async (kg: KeygateUnderTest, token: string) => (await protectedCall(kg, `Bearer ${token}`)).status;

    before(async () => {
      op = await startHostileOp();
    });
    afterEach(async () => {
      await Promise.all(open.splice(0).map((kg) => kg.close()));
      op.reset();
    });
    after(async () => op.close());

    it('KJ-01 a rotated key (new kid) is accepted after exactly one refetch once the cooldown has passed', async () => {
      const kg = await start(300);
      assert.equal(await status(kg, op.idToken()), 200);
      const fetched = jwksFetches();
      const next = makeKey('op-key-2');
      op.keys = [next];
      await sleep(350);
      assert.equal(await status(kg, op.idToken({ signer: { key: next } })), 200);
      assert.equal(jwksFetches(), fetched + 1);
      assert.equal(await status(kg, op.idToken({ signer: { key: next } })), 200);
      assert.equal(jwksFetches(), fetched + 1, 'the new key is cached');
    });

    it('KJ-02 within the cooldown a new kid waits (no refetch), then is picked up: the default cooldown is at most 30 s', async () => {
      assert.ok(JWKS_COOLDOWN_MS <= 30_000);
      const kg = await start(1500); // wide enough that a loaded machine still asks within the cooldown
      assert.equal(await status(kg, op.idToken()), 200);
      const fetched = jwksFetches();
      const next = makeKey('op-key-3');
      op.keys = [op.keys[0]!, next];
      assert.equal(await status(kg, op.idToken({ signer: { key: next } })), 401);
      assert.equal(jwksFetches(), fetched, 'no refetch while cooling down');
      await sleep(1600);
      assert.equal(await status(kg, op.idToken({ signer: { key: next } })), 200);
      assert.equal(jwksFetches(), fetched + 1);
    });

    it('KJ-03 1,000 tokens with random kids cause at most one JWKS fetch per cooldown', async () => {
      const kg = await start();
      assert.equal(await status(kg, op.idToken()), 200);
      const fetched = jwksFetches();
      for (let i = 0; i < 1000; i++) {
        assert.equal(await status(kg, op.idToken({ header: { kid: randomBytes(8).toString('hex') } })), 401);
      }
      assert.ok(jwksFetches() - fetched <= 1, `${jwksFetches() - fetched} fetches`);
    });

    async function failsClosedAndRecovers(answer: NonNullable<HostileOp['jwksAnswer']>) {
      const kg = await start();
      op.jwksAnswer = answer;
      const r = await protectedCall(kg, `Bearer ${op.idToken()}`);
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.equal(r.error, 'temporarily_unavailable');
      op.jwksAnswer = undefined;
      assert.equal(await status(kg, op.idToken()), 200, 'recovers once the provider does');
    }

    it('KJ-04 JWKS 404 fails closed (503) and recovers', async () => {
      await failsClosedAndRecovers({ status: 404, body: 'not found' });
    });

    it('KJ-05 JWKS 500 fails closed (503) and recovers', async () => {
      await failsClosedAndRecovers({ status: 500, body: '{"error":"boom"}' });
    });

    it('KJ-06 a JWKS that hangs fails closed within PROVIDER_TIMEOUT_MS and recovers', async () => {
      const started = Date.now();
      await failsClosedAndRecovers({ hang: true });
      assert.ok(Date.now() - started < 5_000);
    });

    it('KJ-07 a JWKS of null, {}, {"keys":[null]}, {"keys":"x"} or non-JSON fails closed and recovers', async () => {
      for (const body of ['null', '{}', '{"keys":[null]}', '{"keys":"x"}', '<html>', '[]']) await failsClosedAndRecovers({ status: 200, body });
    });

    it('KJ-08 unknown key types and malformed keys beside the good key are ignored', async () => {
      const kg = await start();
      const good = op.keys[0]!.jwk;
      op.jwksAnswer = { body: JSON.stringify({ keys: [{ kty: 'XYZ', kid: 'op-key-1' }, { kty: 'oct', kid: 'op-key-1', k: 'c2VjcmV0' }, { kty: 'RSA', kid: 'broken' }, good] }) };
      assert.equal(await status(kg, op.idToken()), 200);
    });

    it('KJ-09 a token without kid is accepted when the JWKS has one key, and refused when several keys match', async () => {
      const kg = await start();
      assert.equal(await status(kg, op.idToken({ header: { kid: undefined } })), 200);
      const other = await start();
      op.keys = [op.keys[0]!, makeKey('op-key-4')];
      assert.equal(await status(other, op.idToken({ header: { kid: undefined } })), 401);
    });

    it('KJ-10 a key marked use: enc, or key_ops without verify, is not used to verify', async () => {
      const kg = await start();
      op.jwksAnswer = { body: JSON.stringify({ keys: [{ ...op.keys[0]!.jwk, use: 'enc' }] }) };
      assert.equal(await status(kg, op.idToken()), 401);
      const other = await start();
      op.jwksAnswer = { body: JSON.stringify({ keys: [{ ...op.keys[0]!.jwk, use: undefined, key_ops: ['encrypt'] }] }) };
      assert.equal(await status(other, op.idToken()), 401);
    });

    it('KJ-11 a key published for another algorithm (alg RS512) does not verify an RS256 token', async () => {
      const kg = await start();
      op.jwksAnswer = { body: JSON.stringify({ keys: [{ ...op.keys[0]!.jwk, alg: 'RS512' }] }) };
      assert.equal(await status(kg, op.idToken()), 401);
    });

    it('KJ-12 the JWKS is fetched only from the discovered jwks_uri, never from a header, and once for many good tokens', async () => {
      const kg = await start();
      for (let i = 0; i < 50; i++) assert.equal(await status(kg, op.idToken({ claims: { n: i } })), 200);
      assert.equal(jwksFetches(), 1);
    });

    it('KJ-14 one byte damaged anywhere in the published modulus or exponent: refused (401) or the set refused (503), never accepted, never 500', async () => {
      const body = JSON.stringify({ keys: op.keys.map((k) => k.jwk) });
      const ranges = ['"n":"', '"e":"'].map((member) => {
        const start = body.indexOf(member) + member.length;
        return [start, body.indexOf('"', start)] as const;
      });
      const seen = new Map<number, number>();
      for (const [from, to] of ranges) {
        for (let i = from; i < to; i += i < from + 4 || to - i < 8 ? 1 : 9) {
          const kg = await start();
          op.damage = { path: '/jwks', apply: flipByte(i) };
          const r = await protectedCall(kg, `Bearer ${op.idToken()}`);
          assert.ok(r.status === 401 || r.status === 503, `byte ${i}: ${r.status} ${JSON.stringify(r.body)}`);
          seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
          await kg.close();
          open.splice(open.indexOf(kg), 1);
        }
      }
      assert.ok((seen.get(401) ?? 0) > 20, JSON.stringify([...seen]));
    });

    it('KJ-13 a JWKS that disappears after a good fetch keeps serving the cached keys (no fail-open, no outage)', async () => {
      const kg = await start();
      assert.equal(await status(kg, op.idToken()), 200);
      op.jwksAnswer = { status: 500, body: 'down' };
      assert.equal(await status(kg, op.idToken()), 200);
      assert.equal(await status(kg, op.idToken({ signer: { key: op.attackerKey } })), 401);
    });
  });
}
