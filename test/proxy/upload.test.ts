import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { startEcho, type EchoServer } from '../helpers/echo.js';
import type { TestKeygate } from '../helpers/keygate.js';
import { login, send, startProxy, type Login } from './helpers.js';

const MB = 1024 * 1024;
const SIZE = 50 * MB;

/** `total` bytes in 64 KiB chunks made on demand: the client holds no more than a chunk or two at a time. */
function generated(total: number): Readable {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const size = Math.min(chunk.length, total - sent);
      sent += size;
      this.push(size === chunk.length ? chunk : chunk.subarray(0, size));
    },
  });
}

describe('reverse-proxy mode: bodies are streamed, not buffered', () => {
  let echo: EchoServer;
  let kg: TestKeygate & { cleanup(): Promise<void> };
  let alice: Login;

  before(async () => {
    echo = await startEcho();
    kg = await startProxy(`http://${echo.address}`);
    alice = await login(kg, 'alice@example.com', 'alice');
  });
  after(async () => {
    await kg?.cleanup();
    await echo?.close();
  });

  it('a 50 MB streamed upload reaches the upstream whole, with bounded memory (Keygate\'s 16 KB body limit does not apply)', async () => {
    // Keygate, the client and the upstream all run in this process: the growth measured bounds all three together.
    const baseline = process.memoryUsage();
    let peakRss = baseline.rss;
    let peakHeap = baseline.heapUsed;
    let peakBuffers = baseline.arrayBuffers;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      peakRss = Math.max(peakRss, now.rss);
      peakHeap = Math.max(peakHeap, now.heapUsed);
      peakBuffers = Math.max(peakBuffers, now.arrayBuffers);
    }, 20);
    const started = Date.now();
    try {
      const answer = await send(kg.base, '/upload', { authorization: `Bearer ${alice.token}`, 'content-type': 'application/octet-stream', 'content-length': String(SIZE) }, 'PUT', generated(SIZE));
      assert.equal(answer.status, 200, answer.body);
    } finally {
      clearInterval(sampler);
    }
    const seen = echo.last();
    assert.equal(seen.method, 'PUT');
    assert.equal(seen.bodyBytes, SIZE);
    const rssGrowth = (peakRss - baseline.rss) / MB;
    const heapGrowth = (peakHeap - baseline.heapUsed) / MB;
    const bufferGrowth = (peakBuffers - baseline.arrayBuffers) / MB;
    console.log(`50 MB upload through the proxy in ${Date.now() - started} ms: peak growth RSS ${rssGrowth.toFixed(1)} MB, heap ${heapGrowth.toFixed(1)} MB, buffers ${bufferGrowth.toFixed(1)} MB`);
    // Buffers are only printed: received chunks wait for the garbage collector, so their peak is noisy. A body held
    // whole would fail the 16 KB body limit above (413) before it could fail a memory bound.
    assert.ok(rssGrowth < 100, `RSS grew by ${rssGrowth.toFixed(1)} MB`);
    assert.ok(heapGrowth < 100, `heap grew by ${heapGrowth.toFixed(1)} MB`);
  });

  it('a chunked upload (no Content-Length) is streamed too', async () => {
    const answer = await send(kg.base, '/upload', { authorization: `Bearer ${alice.token}`, 'content-type': 'text/plain' }, 'POST', generated(3 * MB));
    assert.equal(answer.status, 200, answer.body);
    assert.equal(echo.last().bodyBytes, 3 * MB);
    assert.equal(echo.last().headers['transfer-encoding'], 'chunked');
  });

  it('PX-11 an upload without credentials is refused before its body is read, and nothing reaches the upstream', async () => {
    const before = echo.requests.length;
    const answer = await send(kg.base, '/upload', { 'content-type': 'application/octet-stream', 'content-length': String(MB) }, 'PUT', generated(MB)).catch((error: Error) => ({ status: -1, body: error.message, headers: {} }));
    // Either the 401 arrives, or Keygate closes the connection while the client still writes: never a 2xx.
    assert.ok(answer.status === 401 || answer.status === -1, `${answer.status} ${answer.body}`);
    assert.equal(echo.requests.length, before);
  });
});
