import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, cleanEnv, startNode, type StartedChild } from './children.ts';
import { driveLoad, type LoadResult } from './load.ts';
import { mb, median, procCpuMs, procStatusBytes, type Row } from './stats.ts';

const FAKE_MLFLOW = fileURLToPath(new URL('./fake-mlflow-server.ts', import.meta.url));
const CONNECTIONS = 8;

export interface ServeOptions {
  rounds: number;
  durationMs: number;
  warmupMs: number;
}

const ENDPOINTS = [
  { path: '/chat', body: JSON.stringify({ query: 'How does MLflow show the steps of my agent?' }) },
  { path: '/rag/v1/answer', body: JSON.stringify({ query: 'How does MLflow show the steps of my agent?', top_k: 3 }) },
];

type Config = 'disabled' | 'store' | 'mlflow';

/** Issue 20's goals: throughput traced / off, and serve's own CPU added per request (the fake MLflow's is its own). */
const GOALS: Record<'store' | 'mlflow', { throughput: number; cpuMs: number }> = {
  store: { throughput: 0.95, cpuMs: 0.05 },
  mlflow: { throughput: 0.9, cpuMs: 0.1 },
};
const CONFIG_NAMES: Record<Config, string> = {
  disabled: 'OTEL_SDK_DISABLED',
  store: 'tracing to the store',
  mlflow: 'tracing to fake MLflow',
};

/**
 * serve with tracing off, to its store, and delivering to a fake MLflow, each as a child process fed
 * by 8 keep-alive connections from this one. Rounds alternate the configurations (in a rotating
 * order) so that drift of the machine hits all of them alike; each figure is the median of the rounds.
 */
export async function benchServe(options: ServeOptions): Promise<Row[]> {
  const home = mkdtempSync(join(tmpdir(), 'otel-mlflow-bench-serve-'));
  const children: StartedChild[] = [];
  try {
    const fake = await startNode([FAKE_MLFLOW], { env: cleanEnv({}), ready: /fake mlflow at (\S+)/ });
    children.push(fake);
    const serveEnv: Record<Config, Record<string, string>> = {
      disabled: { OTEL_SDK_DISABLED: 'true' },
      store: {},
      mlflow: { MLFLOW_TRACKING_URI: fake.ready[1]! },
    };
    const servers = {} as Record<Config, { url: string; pid: number }>;
    for (const config of Object.keys(serveEnv) as Config[]) {
      const dir = join(home, config);
      const serve = await startNode([BIN, 'serve', '--port', '0', '--provider', 'offline'], {
        env: cleanEnv({ HOME: dir, OTEL_MLFLOW_STORE_DIR: join(dir, 'store'), ...serveEnv[config] }),
        cwd: home,
        ready: /listening on (http:\/\/\S+?) /,
      });
      children.push(serve);
      servers[config] = { url: serve.ready[1]!, pid: serve.child.pid! };
    }
    const configs = Object.keys(servers) as Config[];
    const results = new Map<string, (LoadResult & { cpuMsPerRequest: number; fakeCpuMsPerRequest: number })[]>();
    const fakePid = fake.child.pid!;
    const peakRss = new Map<Config, number>();
    for (const endpoint of ENDPOINTS) {
      for (const config of configs)
        await driveLoad(servers[config].url + endpoint.path, endpoint.body, { connections: CONNECTIONS, durationMs: options.warmupMs });
    }
    for (let round = 0; round < options.rounds; round++) {
      for (const endpoint of ENDPOINTS) {
        for (let i = 0; i < configs.length; i++) {
          const config = configs[(i + round) % configs.length]!;
          const { url, pid } = servers[config];
          const sampler = setInterval(() => {
            const rss = procStatusBytes(pid, 'VmRSS') ?? 0;
            peakRss.set(config, Math.max(peakRss.get(config) ?? 0, rss));
          }, 250);
          try {
            const cpuBefore = procCpuMs(pid) ?? 0;
            const fakeCpuBefore = procCpuMs(fakePid) ?? 0;
            const result = await driveLoad(url + endpoint.path, endpoint.body, {
              connections: CONNECTIONS,
              durationMs: options.durationMs,
            });
            const cpuMsPerRequest = ((procCpuMs(pid) ?? 0) - cpuBefore) / result.requests;
            const fakeCpuMsPerRequest = ((procCpuMs(fakePid) ?? 0) - fakeCpuBefore) / result.requests;
            const key = `${endpoint.path} ${config}`;
            results.set(key, [...(results.get(key) ?? []), { ...result, cpuMsPerRequest, fakeCpuMsPerRequest }]);
          } finally {
            clearInterval(sampler);
          }
        }
      }
    }
    const rows: Row[] = [];
    const addedCpu: Record<'store' | 'mlflow', number[]> = { store: [], mlflow: [] };
    for (const endpoint of ENDPOINTS) {
      const of = (config: Config) => {
        const runs = results.get(`${endpoint.path} ${config}`)!;
        return {
          perSecond: median(runs.map((r) => r.perSecond)),
          p50: median(runs.map((r) => r.p50Ms)),
          p99: median(runs.map((r) => r.p99Ms)),
          cpuMs: median(runs.map((r) => r.cpuMsPerRequest)),
          fakeCpuMs: median(runs.map((r) => r.fakeCpuMsPerRequest)),
        };
      };
      const off = of('disabled');
      rows.push({
        name: `serve ${endpoint.path}, ${CONFIG_NAMES.disabled}`,
        raw: `${off.perSecond.toFixed(0)} req/s, p50 ${off.p50.toFixed(1)}, p99 ${off.p99.toFixed(1)} ms; CPU ${off.cpuMs.toFixed(2)} ms/req`,
      });
      for (const config of ['store', 'mlflow'] as const) {
        const on = of(config);
        const addedP99 = on.p99 - off.p99;
        const goal = GOALS[config];
        addedCpu[config].push(on.cpuMs - off.cpuMs);
        rows.push({
          name: `serve ${endpoint.path}, ${CONFIG_NAMES[config]} / off`,
          raw: `${on.perSecond.toFixed(0)} req/s, p50 ${on.p50.toFixed(1)}, p99 ${on.p99.toFixed(1)} ms (${signed(addedP99)}); CPU ${on.cpuMs.toFixed(2)}${config === 'mlflow' ? ` + fake ${on.fakeCpuMs.toFixed(2)}` : ''} ms/req`,
          ratio: on.perSecond / off.perSecond,
          target: `≥ ${goal.throughput.toFixed(2)}×, p99 +≤ 2 ms`,
          met: on.perSecond / off.perSecond >= goal.throughput && addedP99 <= 2,
        });
      }
    }
    for (const config of ['store', 'mlflow'] as const) {
      const added = median(addedCpu[config]);
      rows.push({
        name: `serve CPU per request added by tracing, ${CONFIG_NAMES[config]}`,
        raw: `${signed(added, 2)} ms (${ENDPOINTS.map((endpoint, i) => `${endpoint.path} ${signed(addedCpu[config][i]!, 2)}`).join(', ')})`,
        target: `+≤ ${GOALS[config].cpuMs} ms`,
        met: added <= GOALS[config].cpuMs,
      });
    }
    const off = peakRss.get('disabled') ?? 0;
    rows.push({
      name: 'serve peak RSS under load, traced / off',
      raw: configs.map((config) => `${config === 'disabled' ? 'off' : config} ${mb(peakRss.get(config) ?? 0)}`).join(', '),
      ratio: Math.max(peakRss.get('store') ?? 0, peakRss.get('mlflow') ?? 0) / off,
      target: '≤ 1.10×',
      met: Math.max(peakRss.get('store') ?? 0, peakRss.get('mlflow') ?? 0) <= off * 1.1,
    });
    return rows;
  } finally {
    await Promise.all(children.map((child) => child.stop()));
    rmSync(home, { recursive: true, force: true });
  }
}

function signed(n: number, digits = 1): string {
  return `${n >= 0 ? '+' : ''}${n.toFixed(digits)}`;
}
