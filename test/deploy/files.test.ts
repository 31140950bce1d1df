/**
 * The files in deploy/ that no test runs (Traefik and Envoy are not packaged for Debian here) are read and checked
 * for the structure the /auth contract needs; and all four files must drop the same client headers.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CADDYFILE, NGINX_CONF } from '../helpers/edge-proxy.js';
import { parseYaml, type YamlValue } from '../helpers/yaml-subset.js';

const DEPLOY = new URL('../../deploy/', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, DEPLOY), 'utf8');
const IDENTITY = ['X-Auth-Request-User', 'X-Auth-Request-Email', 'X-Keygate-Assertion'];
/** What no client may hand to the application or to Keygate through any of the proxies. */
const CLIENT_MUST_NOT_SUPPLY = [
  ...IDENTITY,
  'X-Auth-Request-Preferred-Username',
  'X-Auth-Request-Groups',
  'X-Auth-Request-Access-Token',
  'X-Forwarded-User',
  'X-Forwarded-Email',
  'X-Forwarded-Preferred-Username',
  'X-Forwarded-Groups',
  'X-Forwarded-Access-Token',
  'X-Original-URI',
  'X-Original-Method',
  'Forwarded',
  'X-Real-IP',
];

type Obj = { [key: string]: YamlValue };
/** The value at a dotted path, failing with the path when a step is missing. */
function at(value: YamlValue, path: string): YamlValue {
  let current: YamlValue = value;
  for (const step of path.split('.')) {
    assert.ok(current !== null && typeof current === 'object' && !Array.isArray(current) && step in current, `missing ${path} (at ${step})`);
    current = (current as Obj)[step]!;
  }
  return current;
}
const list = (value: YamlValue): YamlValue[] => {
  assert.ok(Array.isArray(value), `not a list: ${JSON.stringify(value)}`);
  return value;
};

describe('deploy/: the Traefik and Envoy files (checked, not run) and the headers every file drops', () => {
  it('Traefik: forwardAuth to /auth?redirect=1 with the three identity headers, every client X-Auth-Request-*/X-Keygate-* dropped', () => {
    const staticConfig = parseYaml(read('traefik/traefik.yml'));
    assert.equal(at(staticConfig, 'entryPoints.web.address'), ':80');
    assert.ok(!JSON.stringify(staticConfig).includes('trustedIPs') && !JSON.stringify(staticConfig).includes('insecure'), 'Traefik is the edge: no trusted forwarders');
    assert.match(String(at(staticConfig, 'providers.file.filename')), /\/dynamic\.yml$/);

    const config = parseYaml(read('traefik/dynamic.yml'));
    const forwardAuth = at(config, 'http.middlewares.keygate.forwardAuth');
    assert.match(String(at(forwardAuth, 'address')), /^http:\/\/[a-z0-9.-]+:\d+\/auth\?redirect=1$/);
    assert.equal(at(forwardAuth, 'trustForwardHeader'), false);
    assert.deepEqual(list(at(forwardAuth, 'authResponseHeaders')), IDENTITY);
    const regex = new RegExp(String(at(forwardAuth, 'authResponseHeadersRegex')));
    for (const name of [...IDENTITY, 'X-Auth-Request-Groups', 'X-Keygate-Anything']) assert.match(name, regex);
    for (const name of ['X-Forwarded-For', 'Authorization', 'Cookie', 'X-Auth']) assert.doesNotMatch(name, regex);
    // Strip, then ask: the order of the router's middlewares.
    assert.deepEqual(list(at(config, 'http.routers.app.middlewares')), ['keygate-strip', 'keygate']);
    for (const [name, router] of Object.entries(at(config, 'http.routers') as Obj)) {
      assert.ok(String(at(router, 'service')) in (at(config, 'http.services') as Obj), `router ${name}: unknown service`);
      for (const middleware of (router as Obj).middlewares === undefined ? [] : list(at(router, 'middlewares'))) {
        assert.ok(String(middleware) in (at(config, 'http.middlewares') as Obj), `router ${name}: unknown middleware ${String(middleware)}`);
      }
    }
    const stripped = at(config, 'http.middlewares.keygate-strip.headers.customRequestHeaders') as Obj;
    assert.ok(Object.values(stripped).every((v) => v === ''), 'an empty value is what removes a header in Traefik');
  });

  it('Envoy: ext_authz HTTP to Keygate at /auth, fail closed, headers only, the identity to the upstream, in the right filter order', () => {
    const config = parseYaml(read('envoy/envoy.yaml'));
    const listener = list(at(config, 'static_resources.listeners'))[0]!;
    const hcm = at(list(at(list(at(listener, 'filter_chains'))[0]!, 'filters'))[0]!, 'typed_config');
    assert.match(String(at(hcm, '@type')), /\.HttpConnectionManager$/);
    assert.equal(at(hcm, 'use_remote_address'), true);
    const filters = list(at(hcm, 'http_filters')).map((f) => String(at(f, 'name')));
    assert.deepEqual(filters, ['envoy.filters.http.header_mutation', 'envoy.filters.http.ext_authz', 'envoy.filters.http.router']);
    const extAuthz = at(list(at(hcm, 'http_filters'))[1]!, 'typed_config');
    assert.equal(at(extAuthz, 'failure_mode_allow'), false);
    assert.equal((extAuthz as Obj).with_request_body, undefined, 'Keygate never reads a body');
    assert.equal(at(extAuthz, 'http_service.path_prefix'), '/auth');
    const clusters = list(at(config, 'static_resources.clusters')).map((c) => String(at(c, 'name')));
    assert.ok(clusters.includes(String(at(extAuthz, 'http_service.server_uri.cluster'))));
    const routes = list(at(list(at(hcm, 'route_config.virtual_hosts'))[0]!, 'routes'));
    for (const route of routes) assert.ok(clusters.includes(String(at(route, 'route.cluster'))));
    const exact = (path: string) => list(at(extAuthz, path)).map((p) => String(at(p, 'exact')));
    assert.deepEqual(exact('http_service.authorization_response.allowed_upstream_headers.patterns'), IDENTITY.map((h) => h.toLowerCase()));
    for (const name of ['authorization', 'cookie', 'accept']) assert.ok(exact('http_service.authorization_request.allowed_headers.patterns').includes(name), name);
    for (const name of ['www-authenticate', 'location']) assert.ok(exact('http_service.authorization_response.allowed_client_headers.patterns').includes(name), name);
    const added = Object.fromEntries(list(at(extAuthz, 'http_service.authorization_request.headers_to_add')).map((h) => [String(at(h, 'key')), String(at(h, 'value'))]));
    assert.deepEqual(added, { 'x-forwarded-uri': '%REQ(:PATH)%', 'x-forwarded-method': '%REQ(:METHOD)%', 'x-forwarded-host': '%REQ(:AUTHORITY)%', 'x-forwarded-proto': '%REQ(:SCHEME)%' });
    for (const type of JSON.stringify(config).match(/"@type":"[^"]*"/g) ?? []) assert.match(type, /"type\.googleapis\.com\/envoy\.extensions\.[a-z_.]+\.v3\.[A-Za-z]+"/);
  });

  it('every file drops every header a client must not supply, and takes the identity from Keygate only', () => {
    const nginx = readFileSync(NGINX_CONF, 'utf8');
    const app = /location \/ \{([\s\S]*?)\n {4}\}/.exec(nginx)![1]!;
    const caddy = readFileSync(CADDYFILE, 'utf8');
    const traefik = parseYaml(read('traefik/dynamic.yml'));
    const envoy = read('envoy/envoy.yaml');
    const traefikRegex = new RegExp(String(at(traefik, 'http.middlewares.keygate.forwardAuth.authResponseHeadersRegex')));
    const traefikStripped = Object.keys(at(traefik, 'http.middlewares.keygate-strip.headers.customRequestHeaders') as Obj).map((h) => h.toLowerCase());
    const caddyDeleted = [...caddy.matchAll(/^\s*request_header -(\S+)$/gm)].map((m) => new RegExp(`^${m[1]!.replace(/\*/g, '.*')}$`, 'i'));
    for (const name of CLIENT_MUST_NOT_SUPPLY) {
      // nginx: a proxy_set_header of that name replaces every client copy (empty: removes it).
      assert.match(app, new RegExp(`proxy_set_header ${name} (""|\\$[a-z_]+);`, 'i'), `nginx: ${name}`);
      assert.ok(caddyDeleted.some((pattern) => pattern.test(name)), `Caddy: ${name}`);
      assert.ok(traefikRegex.test(name) || traefikStripped.includes(name.toLowerCase()), `Traefik: ${name}`);
      assert.match(envoy, new RegExp(`- remove: ${name.toLowerCase()}\\n`), `Envoy: ${name}`);
    }
    for (const name of IDENTITY) {
      assert.match(app, new RegExp(`proxy_set_header ${name} \\$keygate_[a-z]+;`), `nginx: ${name} from auth_request_set`);
      assert.match(caddy, new RegExp(`copy_headers .*\\b${name}\\b`), `Caddy: ${name} copied`);
    }
  });

  it('the YAML reader refuses what it does not understand (self-check)', () => {
    assert.deepEqual(parseYaml('a:\n  - b: 1\n    c: "x: y" # note\n  - d\ne: [1]x'.replace('[1]x', "'q'")), { a: [{ b: 1, c: 'x: y' }, 'd'], e: 'q' });
    for (const bad of ['a:\n\tb: 1', 'a: 1\na: 2', 'a: [1, 2]', 'a: {b: 1}', 'a: &x 1', 'a: |\n  text', 'a:\n  b: 1\n c: 2', 'a: b: c']) {
      assert.throws(() => parseYaml(bad), Error, JSON.stringify(bad));
    }
  });
});
