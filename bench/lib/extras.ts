/** The bench's two non-throughput figures: memory per live session, start-up to listening. */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIENT_ID, AUDIENCE } from './fixtures.js';
import { freePort } from './net.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export async function measureSessionMemory(count: number): Promise<{ count: number; tokenChars: number; bytesPerSession: number }> {
  const result = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(ROOT, 'bench/memory.ts'), String(count)], { encoding: 'utf8', cwd: ROOT });
  if (result.status !== 0) throw new Error(`bench/memory.ts failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { count: number; tokenChars: number; bytesPerSession: number };
}

/**
 * Start-up to listening of what `npm start` runs (node dist/cli/keygate.js, built here first) in provider mode
 * against the fake issuer: from spawn to the "listening" line, median of `runs`. Discovery is lazy (first request).
 */
export async function measureStartup(issuer: string, runs = 5): Promise<{ runs: number; medianMs: number; allMs: number[] }> {
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed: ${build.stdout}${build.stderr}`);
  const cli = join(ROOT, 'dist/src/cli/keygate.js');
  const entry = existsSync(cli) ? cli : join(ROOT, 'dist/cli/keygate.js');
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
