import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { startKeygate } from '../../src/server.js';
import { startDevKeygate, type TestKeygate } from '../helpers/keygate.js';
import { freePort } from '../helpers/net.js';

describe('METRICS_ADDRESS: /metrics on a listener of its own', () => {
  it('is host:port, not the public port; every problem named', () => {
    assert.deepEqual(loadConfig({ METRICS_ADDRESS: '127.0.0.1:9464' }).metricsAddress, { host: '127.0.0.1', port: 9464 });
    assert.deepEqual(loadConfig({ METRICS_ADDRESS: '[::1]:9464' }).metricsAddress, { host: '::1', port: 9464 });
    assert.equal(loadConfig({}).metricsAddress, undefined);
    for (const bad of ['9464', '127.0.0.1', 'http://127.0.0.1:9464', '127.0.0.1:99999', 'a b:1', '127.0.0.1:5000']) {
      assert.throws(() => loadConfig({ PORT: '5000', METRICS_ADDRESS: bad }), (error: unknown) => error instanceof ConfigError && /METRICS_ADDRESS/.test(error.message), bad);
    }
  });

  describe('with a real server', () => {
    let kg: TestKeygate;
    let metricsPort: number;

    before(async () => {
      metricsPort = await freePort();
      kg = await startDevKeygate({ METRICS_ADDRESS: `127.0.0.1:${metricsPort}` });
    });
    after(async () => {
      await kg?.close();
    });

    it('EH-04 with METRICS_ADDRESS the metrics are served there, and 404 on the public port', async () => {
      assert.equal(kg.metricsUrl, `http://127.0.0.1:${metricsPort}`);
      await fetch(new URL('/protected', kg.base));
      const scrape = await fetch(`${kg.metricsUrl}/metrics`);
      assert.equal(scrape.status, 200);
      assert.match(scrape.headers.get('content-type') ?? '', /^text\/plain/);
      const body = await scrape.text();
      assert.match(body, /keygate_http_requests_total\{route="\/protected",method="GET",status="401"\} 1/);
      assert.match(body, /keygate_store_up 1/);
      const publicPort = await fetch(new URL('/metrics', kg.base));
      assert.equal(publicPort.status, 404);
      assert.doesNotMatch(await publicPort.text(), /keygate_/);
    });

    it('answers nothing else there: other paths 404, other methods 405', async () => {
      assert.equal((await fetch(`${kg.metricsUrl}/protected`)).status, 404);
      assert.equal((await fetch(`${kg.metricsUrl}/`)).status, 404);
      const post = await fetch(`${kg.metricsUrl}/metrics`, { method: 'POST', body: 'x' });
      assert.equal(post.status, 405);
      assert.equal(post.headers.get('allow'), 'GET, HEAD');
      assert.equal((await fetch(`${kg.metricsUrl}/metrics?x=1`)).status, 200);
    });
  });

  it('close() closes both listeners', async () => {
    const port = await freePort();
    const kg = await startDevKeygate({ METRICS_ADDRESS: `127.0.0.1:${port}` });
    assert.equal((await fetch(`${kg.metricsUrl}/metrics`)).status, 200);
    await kg.close();
    await assert.rejects(fetch(`http://127.0.0.1:${port}/metrics`));
    await assert.rejects(fetch(new URL('/health', kg.base)));
  });

  it('a METRICS_ADDRESS already taken fails the start, and leaves the public port free', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    const port = await freePort();
    try {
      const config = loadConfig({ HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'silent', METRICS_ADDRESS: `127.0.0.1:${taken}` });
      await assert.rejects(startKeygate(config, { logger: false }), /METRICS_ADDRESS 127\.0\.0\.1:\d+: cannot listen/);
      await assert.rejects(fetch(`http://127.0.0.1:${port}/health`), 'the public listener was closed again');
    } finally {
      blocker.close();
    }
  });

  it('without METRICS_ADDRESS, /metrics stays on the public port', async () => {
    const kg = await startDevKeygate();
    try {
      assert.equal(kg.metricsUrl, undefined);
      const scrape = await fetch(new URL('/metrics', kg.base));
      assert.equal(scrape.status, 200);
      assert.match(await scrape.text(), /keygate_http_requests_total/);
    } finally {
      await kg.close();
    }
  });
});
