/**
 * The Kubernetes manifests (deploy/k8s/): each kustomization is rendered by kustomize itself
 * (`kubectl kustomize`, kubectl's built-in kustomize), every object it renders is validated
 * against the Kubernetes API's schema (kubernetes-models: the Kubernetes OpenAPI definitions
 * compiled to ajv validators), and then checked for what running a Sluice job needs: probes
 * on /healthz and /readyz, port 8081 on all addresses, scrape annotations, limits, a
 * non-root read-only container with volumes where it writes, one pod per job, and for the
 * StatefulSet a volume under .sluice/.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const root = new URL('../../', import.meta.url).pathname;
const k8s = join(root, 'deploy/k8s');

type Obj = Record<string, any>;

/** Renders a kustomization the way `kubectl apply -k` would. */
function render(dir: string): Obj[] {
  let out: string;
  try {
    out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new Error('kubectl is not installed: these tests render with its built-in kustomize (apt-get install kubectl)');
    throw new Error(`kubectl kustomize ${dir} failed:\n${err.stderr ?? err.message}`);
  }
  return parseAllDocuments(out).map((d) => d.toJS() as Obj);
}

/** Validates an object against the Kubernetes schema of its apiVersion and kind; returns the problems. */
async function schemaErrors(obj: Obj): Promise<string[]> {
  let Model: new (o: Obj) => { validate(): void };
  try {
    const mod = (await import(/* @vite-ignore */ `kubernetes-models/${obj.apiVersion}/${obj.kind}`)) as Record<string, typeof Model>;
    Model = mod[obj.kind]!;
  } catch {
    return [`no schema for ${obj.apiVersion} ${obj.kind}`];
  }
  try {
    new Model(obj).validate();
    return [];
  } catch (e) {
    return [(e as Error).message];
  }
}

const workloads = (objs: Obj[]) => objs.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
const named = (objs: Obj[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name);

/** What every Sluice workload must be, whichever shape and overlay. */
function checkWorkload(w: Obj, all: Obj[]): void {
  const what = `${w.kind} ${w.metadata.name}`;
  expect(w.spec.replicas, `${what}: a job is one process`).toBe(1);
  const pod = w.spec.template;
  expect(pod.metadata.annotations, what).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8081', 'prometheus.io/path': '/metrics' });
  // The selector picks the template's own pods.
  expect(pod.metadata.labels).toMatchObject(w.spec.selector.matchLabels);
  expect(pod.spec.terminationGracePeriodSeconds, `${what}: time for the savepoint on SIGTERM`).toBeGreaterThanOrEqual(60);
  expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
  expect(pod.spec.containers).toHaveLength(1);
  const c = pod.spec.containers[0];

  const argv = [...c.command, ...c.args];
  expect(argv.slice(0, 2)).toEqual(['sluice', 'run']);
  expect(argv.join(' '), `${what}: serve where the probes reach`).toContain('--host 0.0.0.0 --insecure --port 8081');
  expect(argv).toContain('--savepoint-on-stop');
  expect(argv).toContain('jobs/job.ts');
  expect(c.ports).toEqual([{ name: 'http', containerPort: 8081 }]);
  expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
  expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
  expect(c.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
  for (const kind of ['requests', 'limits']) {
    expect(c.resources[kind], `${what}: ${kind}`).toHaveProperty('cpu');
    expect(c.resources[kind], `${what}: ${kind}`).toHaveProperty('memory');
  }
  expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });

  // With a read-only root, the job writes only to volumes: .sluice/ and /tmp.
  const mounts = new Map<string, Obj>(c.volumeMounts.map((m: Obj) => [m.mountPath, m]));
  const volumes = new Map<string, Obj>(pod.spec.volumes.map((v: Obj) => [v.name, v]));
  const claims = new Set((w.spec.volumeClaimTemplates ?? []).map((t: Obj) => t.metadata.name as string));
  for (const path of ['/app/.sluice', '/tmp']) {
    const m = mounts.get(path);
    expect(m, `${what}: nothing mounted at ${path}`).toBeDefined();
    expect(volumes.has(m!.name) || claims.has(m!.name), `${what}: no volume ${m!.name}`).toBe(true);
  }
  // The job file: a key of a ConfigMap that is rendered with it (kustomize's hashed name).
  const jobMount = mounts.get('/app/jobs');
  expect(jobMount?.readOnly).toBe(true);
  const source = volumes.get(jobMount!.name)!.configMap;
  const cm = named(all, 'ConfigMap', source.name);
  expect(cm, `${what}: ConfigMap ${source.name}`).toBeDefined();
  expect(source.items).toHaveLength(1);
  expect(source.items[0].path).toBe('job.ts');
  expect(Object.keys(cm!.data)).toContain(source.items[0].key);
  expect(cm!.data[source.items[0].key]).toMatch(/export default/);

  // A Service in front of it: port 8081, scraped, selecting these pods.
  const services = all.filter((o) => o.kind === 'Service' && Object.entries(o.spec.selector).every(([k, v]) => pod.metadata.labels[k] === v));
  expect(services, `${what}: no Service selects its pods`).toHaveLength(1);
  expect(services[0]!.spec.ports).toEqual([{ name: 'http', port: 8081, targetPort: 'http' }]);
  expect(services[0]!.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8081', 'prometheus.io/path': '/metrics' });

  if (w.kind === 'Deployment') {
    expect(w.spec.strategy, `${what}: never two pods of one job`).toEqual({ type: 'Recreate' });
  } else {
    // Checkpoints, savepoints and on-disk state: .sluice/ on a persistent volume of its own.
    expect(claims.has(mounts.get('/app/.sluice')!.name)).toBe(true);
    const claim = w.spec.volumeClaimTemplates.find((t: Obj) => t.metadata.name === mounts.get('/app/.sluice')!.name);
    expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(w.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Retain', whenScaled: 'Retain' });
    expect(services[0]!.metadata.name, `${what}: its serviceName is its Service`).toBe(w.spec.serviceName);
    expect(services[0]!.spec.clusterIP).toBe('None');
  }
}

async function validateAll(objs: Obj[]): Promise<void> {
  const problems = (await Promise.all(objs.map(async (o) => (await schemaErrors(o)).map((p) => `${o.kind} ${o.metadata?.name}: ${p}`)))).flat();
  expect(problems).toEqual([]);
}

describe('deploy/k8s', () => {
  it('the schema check finds what is wrong (so that a pass means something)', async () => {
    const broken = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'x' }, spec: { replicas: 'one', selector: {}, template: { spec: {} } } };
    const errors = await schemaErrors(broken);
    expect(errors.join('\n')).toMatch(/replicas must be integer/);
    expect(errors.join('\n')).toMatch(/containers/);
    expect(await schemaErrors({ apiVersion: 'apps/v1', kind: 'Nonsense', metadata: { name: 'x' } })).toEqual(['no schema for apps/v1 Nonsense']);
  });

  it('base: a stateless Deployment and a stateful StatefulSet, each with its Service and job file, all valid', async () => {
    const objs = render(join(k8s, 'base'));
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      expect.stringMatching(/^ConfigMap\/sluice-jobs-[a-z0-9]+$/),
      'Deployment/sluice-stateless',
      'Service/sluice-stateful',
      'Service/sluice-stateless',
      'StatefulSet/sluice-stateful',
    ]);
    await validateAll(objs);
    for (const w of workloads(objs)) checkWorkload(w, objs);
    for (const o of objs) expect(o.metadata.labels?.['app.kubernetes.io/part-of'], `${o.kind} ${o.metadata.name}`).toBe('sluice');
    for (const w of workloads(objs)) expect(w.spec.template.spec.containers[0].image).toBe('sluice:0.1.0');
    // The ConfigMap holds the job files as they are in the repository.
    const cm = objs.find((o) => o.kind === 'ConfigMap')!;
    for (const f of ['stateless.ts', 'stateful.ts']) expect(cm.data[f]).toBe(readFileSync(join(k8s, 'base/jobs', f), 'utf8'));
    // The stateless job checkpoints nothing; the stateful one does (into .sluice/ on its volume).
    expect(cm.data['stateless.ts']).not.toMatch(/checkpoints:/);
    expect(cm.data['stateful.ts']).toMatch(/checkpoints: \{ interval:/);
  });

  it('overlays/stateful: only the StatefulSet shape, its own job, namespace, prefix, image and sizes, all valid', async () => {
    const objs = render(join(k8s, 'overlays/stateful'));
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      expect.stringMatching(/^ConfigMap\/clicks-sluice-jobs-[a-z0-9]+$/),
      'Service/clicks-sluice-stateful',
      'StatefulSet/clicks-sluice-stateful',
    ]);
    await validateAll(objs);
    for (const w of workloads(objs)) checkWorkload(w, objs);
    for (const o of objs) {
      expect(o.metadata.namespace).toBe('streaming');
      expect(o.metadata.labels?.['app.kubernetes.io/instance']).toBe('clicks');
    }
    const sts = named(objs, 'StatefulSet', 'clicks-sluice-stateful')!;
    expect(sts.spec.selector.matchLabels['app.kubernetes.io/instance']).toBe('clicks');
    const c = sts.spec.template.spec.containers[0];
    expect(c.image).toBe('registry.example.com/streaming/sluice:0.1.0');
    expect(c.args).toEqual(['jobs/job.ts', '--parallelism', '2']);
    expect(c.resources.limits.memory).toBe('4Gi');
    expect(c.env).toContainEqual({ name: 'NODE_OPTIONS', value: '--max-old-space-size=3072' });
    expect(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe('20Gi');
    const cm = objs.find((o) => o.kind === 'ConfigMap')!;
    expect(Object.keys(cm.data)).toEqual(['stateful.ts']);
    expect(cm.data['stateful.ts']).toBe(readFileSync(join(k8s, 'overlays/stateful/jobs/clicks-per-user.ts'), 'utf8'));
  });

  it('the job files in the ConfigMaps load as jobs (sluice run --explain)', async () => {
    for (const file of ['base/jobs/stateless.ts', 'base/jobs/stateful.ts', 'overlays/stateful/jobs/clicks-per-user.ts']) {
      // Awaited, not execFileSync: each start compiles TypeScript, and a blocked worker fails the run on a busy machine.
      const { stdout: plan } = await promisify(execFile)(process.execPath, [join(root, 'bin/sluice.mjs'), 'run', join(k8s, file), '--explain'], { cwd: root, encoding: 'utf8' });
      expect(plan, file).toMatch(/^Job '[a-z-]+': 1 task/);
    }
  }, 120_000);
});
