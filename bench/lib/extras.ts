/** The bench's figures besides throughput: the RSA check's cost, memory per live session, start-up to listening. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIENT_ID, AUDIENCE } from './fixtures.js';
import { freePort } from './net.js';
import { pin } from './proc.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * CPU time of one RS256 check with a cached KeyObject (bench/rsa-limit.ts), pinned to the servers' core: the part of
 * the "physical limit" of a cold request that no verifier can avoid.
 */
export function measureRsaCheck(fixtureDir: string): { cpuUs: number; wallUs: number; checks: number } {
  const argv = pin(0, [process.execPath, '--import', 'tsx', join(ROOT, 'bench/rsa-limit.ts')]);
  const result = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', cwd: ROOT, env: { ...process.env, BENCH_FIXTURE: fixtureDir } });
  const line = /RSA_JSON (\{.*\})/.exec(result.stdout ?? '')?.[1];
  if (result.status !== 0 || !line) throw new Error(`bench/rsa-limit.ts failed: ${result.stderr}`);
  return JSON.parse(line) as { cpuUs: number; wallUs: number; checks: number };
}

export async function measureSessionMemory(count: number): Promise<{ count: number; tokenChars: number; bytesPerSession: number }> {
  const result = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(ROOT, 'bench/memory.ts'), String(count)], { encoding: 'utf8', cwd: ROOT });
  if (result.status !== 0) throw new Error(`bench/memory.ts failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { count: number; tokenChars: number; bytesPerSession: number };
}

/**
 * Start-up to listening of what `npm start` runs (`cli`: node dist/cli/keygate.js, built by the caller) in provider
 * mode against the fake issuer: from spawn to the "listening" line, median of `runs`. Discovery is lazy (first request).
 */
export async function measureStartup(issuer: string, cli: string, runs = 5): Promise<{ runs: number; medianMs: number; allMs: number[] }> {
  const entry = cli;
  const cwd = mkdtempSync(join(tmpdir(), 'keygate-startup-')); // no .env here
  const all: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const port = await freePort();
      const env = {
        PATH: process.env.PATH ?? '',
        ISSUER_URL: issuer,
        CLIENT_ID,
        CLIENT_SECRET: 'bench-client-secret-bench-client-secret',
        SECRET_KEY: 'bench-secret-key-bench-secret-key-0123456789',
        AUDIENCE,
        HOST: '127.0.0.1',
        PORT: String(port),
        LOG_LEVEL: 'warn',
      };
      const start = performance.now();
      const child = spawn(process.execPath, [entry], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const ms = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`keygate did not listen within 20 s: ${out}`)), 20_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (/listening on/.test(out)) {
            clearTimeout(timer);
            resolve(performance.now() - start);
          }
        });
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`keygate exited with ${code}: ${out}`));
        });
      });
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (response.status !== 200) throw new Error(`/healthz answered ${response.status}`);
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
      all.push(ms);
    }
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
  const sorted = [...all].sort((a, b) => a - b);
  return { runs, medianMs: sorted[Math.floor(sorted.length / 2)]!, allMs: all };
}
