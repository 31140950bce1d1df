import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, isLoopbackHost, loadConfig, type Env } from '../../src/config/index.js';

const SECRET = 'k'.repeat(32);
const SECRET2 = 'z'.repeat(40);
/** A complete, valid Auth0 configuration. */
const AUTH0: Env = { AUTH_HOST: 'example.eu.auth0.com', CLIENT_ID: 'client-123', CLIENT_SECRET: 'client-secret-value', SECRET_KEY: SECRET };

/** The ConfigError thrown for `env`, or a failed assertion. */
function problemsOf(env: Env): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.ok(error.problems.length > 0);
    for (const problem of error.problems) assert.ok(error.message.includes(problem), 'the message lists every problem');
    return error.problems;
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(env)}`);
}

/** Asserts that one problem names `variable` (at its start) and, when given, matches `pattern`. */
function assertProblem(problems: readonly string[], variable: string, pattern?: RegExp): void {
  const hit = problems.find((p) => p.startsWith(`${variable}:`) && (pattern === undefined || pattern.test(p)));
  assert.ok(hit, `expected a problem about ${variable}${pattern ? ` matching ${pattern}` : ''}, got ${JSON.stringify(problems)}`);
}

describe('loadConfig: defaults', () => {
  it('an empty environment gives the development mode on localhost:5000', () => {
    const config = loadConfig({});
    assert.equal(config.mode, 'dev');
    assert.equal(config.host, 'localhost');
    assert.equal(config.port, 5000);
    assert.equal(config.baseUrl.href, 'http://localhost:5000/');
    assert.equal(config.secure, false);
    assert.equal(config.issuerUrl, 'http://localhost:5000/idp');
    assert.equal(config.scope, 'openid email');
    assert.equal(config.requireSession, true);
    assert.equal(config.debug, true);
    assert.equal(config.auth0, false);
    assert.equal(config.audience, undefined);
    assert.equal(config.allowlist, undefined);
    assert.equal(config.redisUrl, undefined);
    assert.deepEqual(config.algorithms, ['RS256']);
    assert.ok(config.clientId.length > 0);
    assert.equal(config.secretKeys.length, 1);
    assert.ok(config.secretKeys[0]!.length >= 32, 'the random dev key is long enough');
    assert.ok(config.devUsers.length > 0, 'demo users exist');
  });

  it('the random development SECRET_KEY differs per load', () => {
    assert.notEqual(loadConfig({}).secretKeys[0], loadConfig({}).secretKeys[0]);
  });

  it('empty and blank variables count as unset', () => {
    const config = loadConfig({ AUTH_HOST: '', CLIENT_ID: '   ', PORT: '', SCOPE: ' ' });
    assert.equal(config.mode, 'dev');
    assert.equal(config.port, 5000);
    assert.equal(config.scope, 'openid email');
  });

  it('HOST and PORT move the dev issuer along', () => {
    const config = loadConfig({ HOST: '127.0.0.1', PORT: '8080' });
    assert.equal(config.baseUrl.href, 'http://127.0.0.1:8080/');
    assert.equal(config.issuerUrl, 'http://127.0.0.1:8080/idp');
  });

  it('the returned object is frozen', () => {
    const config = loadConfig({ ...AUTH0, ALLOWED_USERS: 'a@example.com', SECRET_KEY: `${SECRET},${SECRET2}` });
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.secretKeys));
    assert.ok(Object.isFrozen(config.algorithms));
    assert.ok(Object.isFrozen(config.requiredScopes));
    assert.ok(Object.isFrozen(config.devUsers));
    assert.ok(Object.isFrozen(config.allowlist));
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
    assert.throws(() => {
      (config.secretKeys as string[]).push('x');
    }, TypeError);
    assert.equal(config.port, 5000);
  });
});

describe('loadConfig: providers', () => {
  it('AUTH_HOST with the client and SECRET_KEY gives an Auth0 configuration', () => {
    const config = loadConfig(AUTH0);
    assert.equal(config.mode, 'provider');
    assert.equal(config.issuerUrl, 'https://example.eu.auth0.com/');
    assert.equal(config.auth0, true);
    assert.equal(config.debug, false);
    assert.equal(config.clientId, 'client-123');
    assert.equal(config.clientSecret, 'client-secret-value');
    assert.deepEqual(config.secretKeys, [SECRET]);
  });

  it('AUTH_HOST is lower-cased into the issuer', () => {
    assert.equal(loadConfig({ ...AUTH0, AUTH_HOST: 'Example.EU.Auth0.com' }).issuerUrl, 'https://example.eu.auth0.com/');
  });

  it('an AUTH_HOST with a scheme or a path is reported', () => {
    assertProblem(problemsOf({ ...AUTH0, AUTH_HOST: 'https://example.eu.auth0.com' }), 'AUTH_HOST');
    assertProblem(problemsOf({ ...AUTH0, AUTH_HOST: 'example.eu.auth0.com/path' }), 'AUTH_HOST');
  });

  it('every problem is reported at once, each naming its variable', () => {
    const problems = problemsOf({ AUTH_HOST: 'example.eu.auth0.com', CLIENT_ID: 'client-123' });
    assertProblem(problems, 'CLIENT_SECRET');
    assertProblem(problems, 'SECRET_KEY');
    assert.equal(problems.length, 2, JSON.stringify(problems));
  });

  it('many independent problems all show up together', () => {
    const problems = problemsOf({
      ...AUTH0,
      PORT: '70000',
      REQUIRE_SESSION: 'maybe',
      SECRET_KEY: 'short',
      TOKEN_ALGORITHMS: 'none',
      ALLOWED_USERS: 'not-an-address',
    });
    for (const variable of ['PORT', 'REQUIRE_SESSION', 'SECRET_KEY', 'TOKEN_ALGORITHMS', 'ALLOWED_USERS']) assertProblem(problems, variable);
  });

  it('CLIENT_ID alone (no issuer) asks for AUTH_HOST or ISSUER_URL', () => {
    const problems = problemsOf({ CLIENT_ID: 'client-123', CLIENT_SECRET: 'x', SECRET_KEY: SECRET });
    assert.ok(problems.some((p) => p.includes('AUTH_HOST') && p.includes('ISSUER_URL')), JSON.stringify(problems));
  });

  it('ISSUER_URL over plain http to a non-loopback host is refused', () => {
    const problems = problemsOf({ ...AUTH0, AUTH_HOST: undefined, ISSUER_URL: 'http://idp.example.com' });
    assertProblem(problems, 'ISSUER_URL', /http/);
  });

  it('ISSUER_URL over plain http to a loopback host is accepted', () => {
    const config = loadConfig({ ...AUTH0, AUTH_HOST: undefined, ISSUER_URL: 'http://127.0.0.1:9000' });
    assert.equal(config.mode, 'provider');
    assert.equal(new URL(config.issuerUrl).origin, 'http://127.0.0.1:9000');
    assert.equal(config.auth0, false);
  });

  it('ISSUER_URL that is not a URL, or that carries a query or credentials, is refused', () => {
    assertProblem(problemsOf({ ...AUTH0, ISSUER_URL: 'idp.example.com' }), 'ISSUER_URL');
    assertProblem(problemsOf({ ...AUTH0, ISSUER_URL: 'ftp://idp.example.com/' }), 'ISSUER_URL');
    assertProblem(problemsOf({ ...AUTH0, ISSUER_URL: 'https://idp.example.com/?x=1' }), 'ISSUER_URL');
    assertProblem(problemsOf({ ...AUTH0, ISSUER_URL: 'https://user:pw@idp.example.com/' }), 'ISSUER_URL');
  });

  it('ISSUER_URL wins over AUTH_HOST', () => {
    const config = loadConfig({ ...AUTH0, ISSUER_URL: 'https://idp.example.com/realms/demo' });
    assert.equal(config.issuerUrl, 'https://idp.example.com/realms/demo');
    assert.equal(config.auth0, false);
  });

  it('DEBUG can be turned on outside dev mode', () => {
    assert.equal(loadConfig({ ...AUTH0, DEBUG: 'true' }).debug, true);
    assert.equal(loadConfig({ DEBUG: 'off' }).debug, false);
  });
});

describe('loadConfig: SECRET_KEY', () => {
  it('a key shorter than 32 characters is refused, even in dev mode', () => {
    assertProblem(problemsOf({ ...AUTH0, SECRET_KEY: 'k'.repeat(31) }), 'SECRET_KEY', /31/);
    assertProblem(problemsOf({ SECRET_KEY: 'short' }), 'SECRET_KEY');
  });

  it('a comma list keeps its order (first signs, all verify)', () => {
    assert.deepEqual(loadConfig({ ...AUTH0, SECRET_KEY: `${SECRET2}, ${SECRET}` }).secretKeys, [SECRET2, SECRET]);
    assert.deepEqual(loadConfig({ ...AUTH0, SECRET_KEY: `${SECRET},${SECRET2}` }).secretKeys, [SECRET, SECRET2]);
  });

  it('one short key in the list is reported', () => {
    assertProblem(problemsOf({ ...AUTH0, SECRET_KEY: `${SECRET},tiny` }), 'SECRET_KEY', /#2/);
  });

  it('a list of nothing but commas is refused', () => {
    assertProblem(problemsOf({ ...AUTH0, SECRET_KEY: ',,' }), 'SECRET_KEY');
  });
});

describe('loadConfig: ALLOWED_USERS', () => {
  it('USERS is an alias', () => {
    const config = loadConfig({ USERS: 'alice@example.com, @corp.example' });
    assert.ok(config.allowlist);
    assert.deepEqual([...config.allowlist.emails], ['alice@example.com']);
    assert.deepEqual([...config.allowlist.domains], ['corp.example']);
  });

  it('ALLOWED_USERS wins over USERS', () => {
    const config = loadConfig({ USERS: 'bob@example.com', ALLOWED_USERS: 'Alice@Example.com' });
    assert.deepEqual([...config.allowlist!.emails], ['alice@example.com']);
    assert.deepEqual([...config.allowlist!.domains], []);
  });

  it('bad entries are reported, each naming the variable in use', () => {
    const problems = problemsOf({ ALLOWED_USERS: 'alice@example.com, nobody, @, a@b@c.com, @-bad.com' });
    for (const bad of ['nobody', '@', 'a@b@c.com', '@-bad.com']) {
      assert.ok(problems.some((p) => p.startsWith('ALLOWED_USERS:') && p.includes(`"${bad}"`)), `${bad}: ${JSON.stringify(problems)}`);
    }
    assert.ok(!problems.some((p) => p.includes('alice@example.com')), 'the good entry is not reported');
    assertProblem(problemsOf({ USERS: 'nobody' }), 'USERS', /nobody/);
  });

  it('a list of only commas means everyone', () => {
    assert.equal(loadConfig({ ALLOWED_USERS: ' , ,' }).allowlist, undefined);
  });
});

describe('loadConfig: other variables', () => {
  it('REQUIRE_SESSION accepts booleans and reports anything else', () => {
    assert.equal(loadConfig({ REQUIRE_SESSION: 'false' }).requireSession, false);
    assert.equal(loadConfig({ REQUIRE_SESSION: 'FALSE' }).requireSession, false);
    assert.equal(loadConfig({ REQUIRE_SESSION: '0' }).requireSession, false);
    assert.equal(loadConfig({ REQUIRE_SESSION: 'yes' }).requireSession, true);
    assertProblem(problemsOf({ REQUIRE_SESSION: 'maybe' }), 'REQUIRE_SESSION', /maybe/);
  });

  it('PORT out of range or not a number is reported', () => {
    for (const port of ['65536', '-1', '80.5', 'http', '1e3', '99999999999999999999']) {
      assertProblem(problemsOf({ PORT: port }), 'PORT');
    }
    assert.equal(loadConfig({ PORT: '65535' }).port, 65535);
    assert.equal(loadConfig({ PORT: '0' }).port, 0);
  });

  it('BASE_URL over https makes Keygate secure', () => {
    const config = loadConfig({ ...AUTH0, BASE_URL: 'https://keygate.example.com' });
    assert.equal(config.secure, true);
    assert.equal(config.baseUrl.origin, 'https://keygate.example.com');
    assert.equal(loadConfig({ BASE_URL: 'https://keygate.example.com/' }).secure, true);
  });

  it('BASE_URL over plain http to a public host is refused with a provider', () => {
    assertProblem(problemsOf({ ...AUTH0, BASE_URL: 'http://keygate.example.com' }), 'BASE_URL', /http/);
    assert.equal(loadConfig({ ...AUTH0, BASE_URL: 'http://localhost:8080' }).secure, false);
  });

  it('a provider on a non-loopback HOST needs an https BASE_URL; a path in BASE_URL is kept, an odd one refused', () => {
    assertProblem(problemsOf({ ...AUTH0, HOST: '0.0.0.0' }), 'BASE_URL', /HOST "0\.0\.0\.0"/);
    assert.equal(loadConfig({ ...AUTH0, HOST: '0.0.0.0', BASE_URL: 'https://keygate.example.com' }).baseUrl.href, 'https://keygate.example.com/');
    assert.equal(loadConfig({ HOST: '0.0.0.0' }).mode, 'dev', 'the development mode may listen anywhere');
    // A wildcard address is served as localhost: the browser's address, and a loopback (plain http) issuer.
    for (const HOST of ['0.0.0.0', '::']) {
      const wildcard = loadConfig({ HOST });
      assert.equal(wildcard.baseUrl.href, 'http://localhost:5000/');
      assert.equal(wildcard.issuerUrl, 'http://localhost:5000/idp');
      assert.equal(wildcard.host, HOST);
    }
    assertProblem(problemsOf({ BASE_URL: 'http://keygate.example.com' }), 'BASE_URL', /loopback/);
    assert.equal(loadConfig({ BASE_URL: 'http://127.0.0.1:5000/keygate/' }).baseUrl.href, 'http://127.0.0.1:5000/keygate');
    assertProblem(problemsOf({ BASE_URL: 'https://keygate.example.com/app;x=1' }), 'BASE_URL', /path/);
  });

  it('BASE_URL that is not an http(s) URL or carries a query is refused', () => {
    assertProblem(problemsOf({ BASE_URL: 'keygate.example.com' }), 'BASE_URL');
    assertProblem(problemsOf({ BASE_URL: 'ftp://keygate.example.com' }), 'BASE_URL');
    assertProblem(problemsOf({ BASE_URL: 'https://keygate.example.com/?a=1' }), 'BASE_URL');
  });

  it('AUDIENCE set but blank is refused; unset or empty means the ID token', () => {
    assertProblem(problemsOf({ ...AUTH0, AUDIENCE: '  ' }), 'AUDIENCE', /blank/);
    assert.equal(loadConfig({ ...AUTH0, AUDIENCE: '' }).audience, undefined);
    assert.equal(loadConfig({ ...AUTH0, AUDIENCE: ' https://api.example.com ' }).audience, 'https://api.example.com');
    assertProblem(problemsOf({ ...AUTH0, AUDIENCE: 'two words' }), 'AUDIENCE');
  });

  it('REFRESH adds offline_access to SCOPE; offline_access in SCOPE turns REFRESH on', () => {
    const off = loadConfig({});
    assert.equal(off.refresh, false);
    assert.equal(off.refreshBeforeSeconds, 60);
    const on = loadConfig({ REFRESH: 'true', REFRESH_BEFORE_SECONDS: '120' });
    assert.equal(on.refresh, true);
    assert.equal(on.scope, 'openid email offline_access');
    assert.equal(on.refreshBeforeSeconds, 120);
    const byScope = loadConfig({ SCOPE: 'openid email offline_access' });
    assert.equal(byScope.refresh, true);
    assert.equal(byScope.scope, 'openid email offline_access');
    assert.equal(loadConfig({ SCOPE: 'openid offline_access', REFRESH: 'false' }).refresh, false);
    assertProblem(problemsOf({ REFRESH: 'sometimes' }), 'REFRESH');
    assertProblem(problemsOf({ REFRESH_BEFORE_SECONDS: '1' }), 'REFRESH_BEFORE_SECONDS');
  });

  it('SCOPE must include openid', () => {
    assertProblem(problemsOf({ SCOPE: 'email profile' }), 'SCOPE');
    assert.equal(loadConfig({ SCOPE: 'openid profile email' }).scope, 'openid profile email');
  });

  it('TOKEN_ALGORITHMS=none is refused', () => {
    assertProblem(problemsOf({ ...AUTH0, TOKEN_ALGORITHMS: 'none' }), 'TOKEN_ALGORITHMS', /none/);
    assertProblem(problemsOf({ ...AUTH0, TOKEN_ALGORITHMS: 'RS256,none' }), 'TOKEN_ALGORITHMS', /none/);
  });

  it('TOKEN_ALGORITHMS accepts a list of asymmetric algorithms', () => {
    assert.deepEqual(loadConfig({ ...AUTH0, TOKEN_ALGORITHMS: 'RS256, ES256 EdDSA' }).algorithms, ['RS256', 'ES256', 'EdDSA']);
  });

  it('TOKEN_ALGORITHMS=HS256 with a short CLIENT_SECRET is refused; with a long one it is accepted', () => {
    assertProblem(problemsOf({ ...AUTH0, CLIENT_SECRET: 'too-short', TOKEN_ALGORITHMS: 'HS256' }), 'TOKEN_ALGORITHMS', /CLIENT_SECRET/);
    const config = loadConfig({ ...AUTH0, CLIENT_SECRET: 's'.repeat(32), TOKEN_ALGORITHMS: 'HS256' });
    assert.deepEqual(config.algorithms, ['HS256']);
  });

  it('DEV_USERS parses email:password[:name]', () => {
    const config = loadConfig({ DEV_USERS: 'Carol@Example.com:pw:Carol C, dave@example.com:secret' });
    assert.deepEqual(config.devUsers, [
      { email: 'carol@example.com', password: 'pw', name: 'Carol C' },
      { email: 'dave@example.com', password: 'secret', name: 'dave' },
    ]);
  });

  it('DEV_USERS garbage is refused', () => {
    assertProblem(problemsOf({ DEV_USERS: 'garbage' }), 'DEV_USERS', /garbage/);
    assertProblem(problemsOf({ DEV_USERS: 'carol@example.com' }), 'DEV_USERS');
    assertProblem(problemsOf({ DEV_USERS: 'not-an-email:pw' }), 'DEV_USERS');
    assertProblem(problemsOf({ DEV_USERS: ',' }), 'DEV_USERS');
  });

  it('DEV_USERS with a real provider is refused', () => {
    assertProblem(problemsOf({ ...AUTH0, DEV_USERS: 'carol@example.com:pw' }), 'DEV_USERS');
  });

  it(
    'an invalid HOST is reported as a ConfigError, together with the other problems',
    () => {
      const problems = problemsOf({ HOST: 'bad host', PORT: '99999' });
      assertProblem(problems, 'HOST');
      assertProblem(problems, 'PORT');
    },
  );

  it(
    'a HOST that carries a path is refused instead of silently giving a wrong base URL',
    () => {
      assertProblem(problemsOf({ HOST: 'a/b' }), 'HOST');
    },
  );
});

describe('isLoopbackHost', () => {
  it('recognises loopback names and addresses', () => {
    for (const host of ['localhost', 'LOCALHOST', 'app.localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]']) {
      assert.equal(isLoopbackHost(host), true, host);
    }
  });

  it('refuses everything else, including lookalikes', () => {
    for (const host of ['example.com', 'localhost.example.com', 'notlocalhost', '127.0.0.1.example.com', '128.0.0.1', '0.0.0.0', '10.0.0.1', '::2', '1127.0.0.1', '127.0.0']) {
      assert.equal(isLoopbackHost(host), false, host);
    }
  });
});

describe('loadConfig: rate limits and TRUST_PROXY', () => {
  it('defaults: 600 per minute for logins, callbacks and failed bearer attempts; proxies not trusted', () => {
    const config = loadConfig({});
    for (const limit of [config.rateLimitLogin, config.rateLimitCallback, config.rateLimitBearerFailures]) {
      assert.deepEqual(limit, { max: 600, windowMs: 60_000 });
    }
    assert.equal(config.trustProxy, false);
  });

  it('reads count/window in seconds, minutes or hours, and off', () => {
    const config = loadConfig({ RATE_LIMIT_LOGIN: '20/30s', RATE_LIMIT_CALLBACK: '1000/h', RATE_LIMIT_BEARER_FAILURES: 'off' });
    assert.deepEqual(config.rateLimitLogin, { max: 20, windowMs: 30_000 });
    assert.deepEqual(config.rateLimitCallback, { max: 1000, windowMs: 3_600_000 });
    assert.equal(config.rateLimitBearerFailures, undefined);
    assert.deepEqual(loadConfig({ RATE_LIMIT_LOGIN: '5/10' }).rateLimitLogin, { max: 5, windowMs: 10_000 });
    assert.deepEqual(loadConfig({ RATE_LIMIT_LOGIN: '5 / 2m' }).rateLimitLogin, { max: 5, windowMs: 120_000 });
  });

  it('reports every malformed limit at once, naming the variable', () => {
    const problems = problemsOf({ RATE_LIMIT_LOGIN: 'lots', RATE_LIMIT_CALLBACK: '10/0s', RATE_LIMIT_BEARER_FAILURES: '10/2d' });
    assertProblem(problems, 'RATE_LIMIT_LOGIN', /count\/window/);
    assertProblem(problems, 'RATE_LIMIT_CALLBACK');
    assertProblem(problems, 'RATE_LIMIT_BEARER_FAILURES');
    assertProblem(problemsOf({ RATE_LIMIT_LOGIN: '10/' }), 'RATE_LIMIT_LOGIN');
    assertProblem(problemsOf({ RATE_LIMIT_LOGIN: '-1/1m' }), 'RATE_LIMIT_LOGIN');
  });

  it('TRUST_PROXY: off, true, a hop count, or a list of addresses and CIDR ranges', () => {
    assert.equal(loadConfig({ TRUST_PROXY: 'off' }).trustProxy, false);
    assert.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true);
    assert.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2);
    assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.1, 192.168.0.0/16, ::1, fd00::/8' }).trustProxy, ['10.0.0.1', '192.168.0.0/16', '::1', 'fd00::/8']);
    assertProblem(problemsOf({ TRUST_PROXY: 'proxy.example.com' }), 'TRUST_PROXY', /proxy\.example\.com/);
    assertProblem(problemsOf({ TRUST_PROXY: '10.0.0.0/33' }), 'TRUST_PROXY');
  });
});

/** The shared store needs an explicit SECRET_KEY (its refusal without one is in test/core/causes.test.ts). */
const KEY = { SECRET_KEY: 'redis-config-test-key-0123456789abcdef' };

describe('loadConfig: the Redis store', () => {
  it('no Redis setting gives the memory store', () => {
    assert.equal(loadConfig({}).redis, undefined);
  });

  it('REDIS_URL: host, port, user, password, database, TLS; default prefix and timeout', () => {
    const config = loadConfig({ ...KEY, REDIS_URL: 'rediss://keygate:p%40ss@redis.internal:6380/2' });
    assert.equal(config.redisUrl, 'rediss://keygate:p%40ss@redis.internal:6380/2');
    assert.deepEqual(config.redis, {
      url: 'rediss://keygate:p%40ss@redis.internal:6380/2', clusterNodes: undefined, sentinels: undefined,
      sentinelName: undefined, sentinelPassword: undefined, prefix: 'keygate:', timeoutMs: 1000,
    });
    assert.ok(Object.isFrozen(config.redis));
    assert.equal(loadConfig({ ...KEY, REDIS_URL: 'redis://127.0.0.1' }).redis?.url, 'redis://127.0.0.1');
    assert.equal(loadConfig({ ...KEY, REDIS_URL: 'redis://[::1]:6379/0', REDIS_PREFIX: 'kg:prod:', REDIS_TIMEOUT_MS: '250' }).redis?.prefix, 'kg:prod:');
  });

  it('a bad REDIS_URL is a problem naming the variable, without echoing the password', () => {
    for (const url of ['http://redis:6379', 'redis//nohost', 'redis://host:6379/db1', 'redis://host/2?tls=true', 'not a url', 'redis://user:hunter2@host/x']) {
      const problems = problemsOf({ ...KEY, REDIS_URL: url });
      assertProblem(problems, 'REDIS_URL');
      assert.ok(!problems.join(' ').includes('hunter2'), 'the password is never printed');
    }
  });

  it('Cluster: REDIS_CLUSTER_NODES alone is enough; the prefix becomes one hash tag; database 0 only', () => {
    const config = loadConfig({ ...KEY, REDIS_CLUSTER_NODES: '10.0.0.1:7000, 10.0.0.2:7001,[::1]:7002' });
    assert.deepEqual(config.redis?.clusterNodes, [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }, { host: '::1', port: 7002 }]);
    assert.equal(config.redis?.prefix, '{keygate}:');
    assert.equal(loadConfig({ ...KEY, REDIS_CLUSTER_NODES: 'a:1', REDIS_PREFIX: '{kg}:x:' }).redis?.prefix, '{kg}:x:');
    assertProblem(problemsOf({ ...KEY, REDIS_CLUSTER_NODES: 'a:1', REDIS_URL: 'redis://a/3' }), 'REDIS_URL', /database 0/);
    assertProblem(problemsOf({ ...KEY, REDIS_CLUSTER_NODES: 'a:1,b' }), 'REDIS_CLUSTER_NODES', /"b" is not host:port/);
    assertProblem(problemsOf({ ...KEY, REDIS_CLUSTER_NODES: 'a:70000' }), 'REDIS_CLUSTER_NODES');
  });

  it('Sentinel: REDIS_SENTINELS needs REDIS_SENTINEL_NAME; not both Cluster and Sentinel', () => {
    const config = loadConfig({ ...KEY, REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'mymaster', REDIS_URL: 'redis://:pw@ignored/1' });
    assert.deepEqual(config.redis?.sentinels, [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }]);
    assert.equal(config.redis?.sentinelName, 'mymaster');
    assertProblem(problemsOf({ ...KEY, REDIS_SENTINELS: 's1:26379' }), 'REDIS_SENTINEL_NAME', /required/);
    assertProblem(problemsOf({ ...KEY, REDIS_URL: 'redis://a', REDIS_SENTINEL_NAME: 'm' }), 'REDIS_SENTINEL_NAME', /only used/);
    const both = problemsOf({ ...KEY, REDIS_SENTINELS: 's:1', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: 'c:1' });
    assertProblem(both, 'REDIS_CLUSTER_NODES and REDIS_SENTINELS');
  });

  it('REDIS_PREFIX and REDIS_TIMEOUT_MS are validated, and refused without a Redis store; all problems at once', () => {
    const problems = problemsOf({ ...KEY, REDIS_URL: 'redis://a', REDIS_PREFIX: 'has space', REDIS_TIMEOUT_MS: '5' });
    assertProblem(problems, 'REDIS_PREFIX');
    assertProblem(problems, 'REDIS_TIMEOUT_MS', /50 to 10000/);
    assertProblem(problemsOf({ ...KEY, REDIS_PREFIX: 'kg:' }), 'REDIS_PREFIX', /only used with the Redis store/);
  });
});

// The verified-token cache.
describe('loadConfig: TOKEN_CACHE_SIZE', () => {
  it('defaults to 10,000 entries; 0 turns the cache off', () => {
    assert.equal(loadConfig({}).tokenCacheSize, 10_000);
    assert.equal(loadConfig({ TOKEN_CACHE_SIZE: '0' }).tokenCacheSize, 0);
    assert.equal(loadConfig({ ...AUTH0, TOKEN_CACHE_SIZE: '250000' }).tokenCacheSize, 250_000);
  });

  it('refuses a negative, fractional, non-numeric or huge size, naming the variable', () => {
    for (const value of ['-1', '1.5', 'lots', '10000001']) {
      assertProblem(problemsOf({ TOKEN_CACHE_SIZE: value }), 'TOKEN_CACHE_SIZE', /whole number/);
    }
  });
});

describe('loadConfig: sessions and administration (ADMIN_USERS, ADMIN_SCOPE, TRACK_LAST_USED)', () => {
  it('defaults: nobody administers, last use is tracked', () => {
    const config = loadConfig(AUTH0);
    assert.deepEqual(config.adminUsers, []);
    assert.equal(config.adminScope, undefined);
    assert.equal(config.trackLastUsed, true);
  });

  it('reads e-mails and @domains (lower-cased), a scope, and TRACK_LAST_USED=false', () => {
    const config = loadConfig({ ...AUTH0, ADMIN_USERS: 'Ops@Example.com, @Admins.example', ADMIN_SCOPE: 'admin:sessions', TRACK_LAST_USED: 'false' });
    assert.deepEqual(config.adminUsers, ['ops@example.com', '@admins.example']);
    assert.equal(config.adminScope, 'admin:sessions');
    assert.equal(config.trackLastUsed, false);
  });

  it('reports every bad entry at once, each naming its variable', () => {
    const problems = problemsOf({ ...AUTH0, ADMIN_USERS: 'ops, @nodot', ADMIN_SCOPE: 'has"quote', TRACK_LAST_USED: 'sometimes' });
    assertProblem(problems, 'ADMIN_USERS', /"ops"/);
    assertProblem(problems, 'ADMIN_USERS', /"@nodot"/);
    assertProblem(problems, 'ADMIN_SCOPE');
    assertProblem(problems, 'TRACK_LAST_USED');
  });
});
