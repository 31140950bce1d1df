/** The bench's printed report: the table, Keygate against each peer, the limits and the targets. */
import type { LoadResult } from './proc.js';

export type Scenario = 'one' | 'rotating' | 'cold';

export interface Sample extends LoadResult {
  rss: number;
  /** Server CPU time per answered request, in microseconds: steadier than req/s on a machine shared with others. */
  cpuUsPerRequest: number;
  /** CPU used by processes other than the bench's during the measurement, in cores (0.25 = a quarter of a core). */
  otherLoad: number;
}

export interface ReportRow {
  id: string;
  label: string;
  /** A Keygate row of this checkout (`main`) or of a baseline; undefined for peers and ceilings. */
  keygate?: 'main' | 'baseline';
}

export interface ReportInput {
  heading: string[];
  scenarios: Record<Scenario, string>;
  rows: ReportRow[];
  samples: Map<string, Sample[]>;
  /** CPU µs of one RSA check, one figure per round. */
  rsaCpuUs: number[];
  memory: { count: number; bytesPerSession: number };
  startup: { runs: number; medianMs: number };
}

export const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const fmt = (n: number) => Math.round(n).toLocaleString('en');
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(2)}×` : '—');

export function report(input: ReportInput): string {
  const { scenarios, rows, samples } = input;
  const scenarioList = Object.keys(scenarios) as Scenario[];
  const stat = (scenario: Scenario, id: string) => {
    const list = samples.get(`${scenario}/${id}`);
    if (!list) return undefined;
    const rps = list.map((s) => s.rps);
    return {
      rps: median(rps),
      min: Math.min(...rps),
      max: Math.max(...rps),
      p50: median(list.map((s) => s.p50Ms)),
      p99: median(list.map((s) => s.p99Ms)),
      rss: median(list.map((s) => s.rss)),
      cpu: median(list.map((s) => s.cpuUsPerRequest)),
      other: Math.max(...list.map((s) => s.otherLoad)),
    };
  };
  /**
   * a's req/s over b's round by round (the two measured minutes apart, not the whole run apart), as median and range:
   * a machine that speeds up or slows down during the run moves both figures of a round alike.
   */
  const paired = (aKey: string, bKey: string) => {
    const a = samples.get(aKey);
    const b = samples.get(bKey);
    if (!a || !b || a.length !== b.length || a.length < 2) return '';
    const r = a.map((s, i) => s.rps / b[i]!.rps);
    return `; round by round ${median(r).toFixed(2)}× (${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)})`;
  };
  const fastify = stat('one', 'fastify');
  const lines = [...input.heading, ''];
  lines.push('| scenario | server | req/s median (min–max) | p50 ms | p99 ms | RSS MB | CPU µs/req | × bare Fastify | others\' load, max |');
  lines.push('|---|---|---|---|---|---|---|---|---|');
  for (const scenario of scenarioList) {
    for (const row of rows) {
      const s = stat(scenario, row.id);
      if (!s) continue;
      lines.push(`| ${scenarios[scenario]} | ${row.label} | ${fmt(s.rps)} (${fmt(s.min)}–${fmt(s.max)}) | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${(s.rss / 2 ** 20).toFixed(0)} | ${s.cpu.toFixed(1)} | ${ratio(s.rps, fastify?.rps)} | ${(100 * s.other).toFixed(0)}% |`);
    }
  }

  lines.push('', "Others' load: CPU time of processes outside the bench (other people's tests) during the measured seconds, in % of one core, the largest of the rounds; the server's CPU time per request grows with it (its own core or wrk's is shared), so rows with a high figure are noisy.");
  lines.push('', 'Keygate against each peer (same scenario, same run; ratios of median req/s):', '');
  lines.push('| scenario | Keygate row | vs node:http | vs Express + oauth2-jwt-bearer | vs @fastify/jwt | vs Fastify + jose |');
  lines.push('|---|---|---|---|---|---|');
  for (const scenario of scenarioList) {
    for (const row of rows.filter((r) => r.keygate)) {
      const k = stat(scenario, row.id)?.rps;
      if (k === undefined) continue;
      const jwt = stat(scenario, scenario === 'cold' ? 'fastify-jwt-nocache' : 'fastify-jwt')?.rps;
      const express = stat(scenario === 'cold' ? 'rotating' : scenario, 'express-bearer')?.rps;
      lines.push(`| ${scenarios[scenario]} | ${row.label} | ${ratio(k, stat('one', 'node-http')?.rps)} | ${ratio(k, express)} | ${ratio(k, jwt)} | ${ratio(k, stat(scenario, 'fastify-jose')?.rps)} |`);
    }
  }

  // --- the limits: bare Fastify for a cached token, bare Fastify plus one RSA check for a cold one ---------------
  const rsa = input.rsaCpuUs.length > 0 ? median(input.rsaCpuUs) : undefined;
  const limitUs = fastify && rsa !== undefined ? fastify.cpu + rsa : undefined;
  lines.push('', 'Limits (same run, server core):', '');
  lines.push(
    rsa === undefined
      ? '- one RSA-2048 check: not measured'
      : `- one RS256 check (RSA-2048) with a cached KeyObject, node:crypto.verify one at a time: ${rsa.toFixed(1)} µs CPU (median of ${input.rsaCpuUs.length}: ${input.rsaCpuUs.map((v) => v.toFixed(1)).join(', ')})`,
  );
  lines.push(fastify ? `- warm limit: bare Fastify, ${fmt(fastify.rps)} req/s, ${fastify.cpu.toFixed(1)} µs CPU per request` : '- warm limit: bare Fastify not measured');
  if (limitUs !== undefined) {
    lines.push(`- cold limit ("physical limit"): bare Fastify + one RSA check = ${fastify!.cpu.toFixed(1)} + ${rsa!.toFixed(1)} = ${limitUs.toFixed(1)} µs CPU per request (${fmt(1e6 / limitUs)} req/s on a whole core)`);
  }

  // --- targets and ratios ------------------------------------------------------------------------------------------
  const targets: string[] = [];
  const target = (name: string, value: number | undefined, goal: number, unit: string, lower: boolean, extra = '') => {
    if (value === undefined || !Number.isFinite(value)) return void targets.push(`- ${name}: not measured`);
    const met = lower ? value <= goal : value >= goal;
    targets.push(`- ${name}: ${value.toFixed(2)}${unit} (target ${lower ? '≤' : '≥'} ${goal}${unit}) — **${met ? 'met' : 'missed'}**${extra}`);
  };
  /** b's CPU µs per request over a's: how many times cheaper a is than b. */
  const byCpu = (a: { cpu: number } | undefined, b: { cpu: number } | undefined) =>
    a && b && a.cpu > 0 ? `; by CPU time per request ${(b.cpu / a.cpu).toFixed(2)}× (${a.cpu.toFixed(1)} against ${b.cpu.toFixed(1)} µs)` : '';
  const limitsOf = (row: ReportRow, goals: boolean) => {
    for (const scenario of ['one', 'rotating'] as const) {
      const k = stat(scenario, row.id);
      if (!k) continue;
      const extra = `${byCpu(k, fastify)}${paired(`${scenario}/${row.id}`, 'one/fastify')}`;
      if (goals) target(`${scenarios[scenario]}: ${row.label} / bare Fastify`, fastify ? k.rps / fastify.rps : undefined, 0.85, '×', false, extra);
      else lines.push(`- ${scenarios[scenario]}: ${row.label} / bare Fastify: ${ratio(k.rps, fastify?.rps)}${extra}`);
      if (row.id === 'keygate-auth') {
        const shape = stat('one', 'fastify-auth-shape');
        if (shape) targets.push(`- ${scenarios[scenario]}: ${row.label} / bare Fastify answering /auth's shape (no target): ${ratio(k.rps, shape.rps)}${byCpu(k, shape)}${paired(`${scenario}/${row.id}`, 'one/fastify-auth-shape')}`);
      }
    }
    // The cold row of the same server: keygate → keygate-nocache, keygate-redis@x → keygate-redis-nocache@x.
    const coldId = row.id.replace(/^keygate(-redis)?/, '$&-nocache');
    const cold = stat('cold', coldId);
    if (cold && limitUs !== undefined) {
      const name = `cold: ${rows.find((r) => r.id === coldId)?.label} CPU per request / cold limit`;
      const extra = `: ${cold.cpu.toFixed(1)} against ${limitUs.toFixed(1)} µs; by req/s ${(1e6 / limitUs / cold.rps).toFixed(2)}× (${fmt(cold.rps)} req/s)`;
      if (goals) target(name, cold.cpu / limitUs, 1.2, '×', true, extra);
      else lines.push(`- ${name}: ${(cold.cpu / limitUs).toFixed(2)}×${extra}`);
    }
  };
  const main = rows.find((r) => r.id === 'keygate');
  if (main) limitsOf(main, true);
  const forwardAuth = rows.find((r) => r.id === 'keygate-auth');
  if (forwardAuth) limitsOf(forwardAuth, true);
  const js = stat('one', 'fastify-jwt');
  const k1 = stat('one', 'keygate');
  target('one token: Keygate / @fastify/jwt', k1 && js ? k1.rps / js.rps : undefined, 1.4, '×', false, byCpu(k1, js));
  const coldK = stat('cold', 'keygate-nocache');
  const coldJose = stat('cold', 'fastify-jose');
  target('cold: Keygate (TOKEN_CACHE_SIZE=0) / Fastify + jose', coldK && coldJose ? coldK.rps / coldJose.rps : undefined, 1.2, '×', false, byCpu(coldK, coldJose));
  for (const scenario of ['one', 'rotating'] as const) {
    const r = stat(scenario, 'keygate-redis');
    const m = stat(scenario, 'keygate');
    target(`${scenarios[scenario]}: Keygate Redis (REQUIRE_SESSION=true) / Keygate memory (REQUIRE_SESSION=false)`, r && m ? r.rps / m.rps : undefined, 0.6, '×', false, byCpu(r, m));
  }
  // Issue 12: introspection does /protected's work plus client authentication, on the same server and tokens.
  if (rows.some((r) => r.id === 'keygate-introspect')) {
    for (const scenario of ['one', 'rotating'] as const) {
      const i = stat(scenario, 'keygate-introspect');
      const m = stat(scenario, 'keygate');
      target(`${scenarios[scenario]}: Keygate POST /introspect / Keygate /protected (same server settings)`, i && m ? i.rps / m.rps : undefined, 0.6, '×', false, byCpu(i, m));
    }
  }
  // Issue 12: "last used" tracking (default on) against the same Redis row without it: the cost, < 5 %.
  if (rows.some((r) => r.id === 'keygate-redis-untracked')) {
    for (const scenario of ['one', 'rotating'] as const) {
      const tracked = stat(scenario, 'keygate-redis');
      const untracked = stat(scenario, 'keygate-redis-untracked');
      const cost = tracked && untracked ? (1 - tracked.rps / untracked.rps) * 100 : undefined;
      target(`${scenarios[scenario]}: cost of TRACK_LAST_USED on /protected (Redis, REQUIRE_SESSION=true)`, cost, 5, ' %', true, byCpu(tracked, untracked));
    }
  }
  target(`memory per live session (MemoryStore, ${input.memory.count.toLocaleString('en')} sessions, heapUsed delta / count)`, input.memory.bytesPerSession / 1024, 1.5, ' KB', true);
  target(`start-up to listening (provider mode, fake issuer, median of ${input.startup.runs}, node dist/cli/keygate.js)`, input.startup.medianMs / 1000, 1, ' s', true);

  // The proxy mode against @fastify/http-proxy with no authentication, in front of the same upstream.
  for (const scenario of ['one', 'rotating'] as const) {
    const k = stat(scenario, 'keygate-proxy');
    const p = stat(scenario, 'http-proxy');
    if (k || p) target(`${scenarios[scenario]}: Keygate reverse proxy / @fastify/http-proxy (no authentication)`, k && p ? k.rps / p.rps : undefined, 0.8, '×', false, byCpu(k, p));
  }

  const others = rows.filter((r) => r.keygate && r !== main && r !== forwardAuth && r.id !== 'keygate-proxy' && !r.id.includes('nocache'));
  if (others.length > 0) {
    lines.push('', 'The same ratios for the other Keygate rows (no targets):', '');
    for (const row of others) limitsOf(row, false);
  }
  lines.push('', 'Targets:', '', ...targets);
  return lines.join('\n');
}
