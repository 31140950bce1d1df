/**
 * A real three-node Redis Cluster on loopback for tests: three redis-server children with --cluster-enabled yes,
 * joined by `redis-cli --cluster create` (no replicas), each node's config in a temporary directory, stopped by PID.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './net.js';
import { TestRedis } from './redis.js';

const run = promisify(execFile);
export const REDIS_CLI = process.env.REDIS_CLI_PATH ?? '/usr/bin/redis-cli';

export class TestRedisCluster {
  private constructor(readonly nodes: TestRedis[], readonly dir: string) {}

  /** Starts three nodes (the cluster bus uses port + 10000, so ports stay below 55536) and waits for cluster_state:ok. */
  static async start(): Promise<TestRedisCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'keygate-cluster-'));
    const nodes: TestRedis[] = [];
    try {
      while (nodes.length < 3) {
        let port = await freePort();
        while (port > 55_000 || nodes.some((n) => n.port === port)) port = await freePort();
        nodes.push(await TestRedis.startOn(port, ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '2000', '--dir', dir]));
      }
      await run(REDIS_CLI, ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { timeout: 20_000 });
      const deadline = Date.now() + 15_000;
      for (const node of nodes) {
        for (;;) {
          const { stdout } = await run(REDIS_CLI, ['-p', String(node.port), 'cluster', 'info'], { timeout: 5_000 });
          if (stdout.includes('cluster_state:ok')) break;
          if (Date.now() > deadline) throw new Error(`cluster not ok on ${node.port}: ${stdout}`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      return new TestRedisCluster(nodes, dir);
    } catch (error) {
      for (const node of nodes) await node.stop();
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  async stop(): Promise<void> {
    for (const node of this.nodes) await node.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}
