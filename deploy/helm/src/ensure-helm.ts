import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The Helm release the chart is tested with (a v3 that builds with the repository's Go). */
export const HELM_VERSION = 'v3.21.4';
/**
 * The Kubernetes version `helm template` and `helm lint` assume. A `go install` build has no release
 * ldflags, so Helm would otherwise assume v1.20 and refuse the chart's kubeVersion (>= 1.25); set to
 * the client-go minor Helm v3.21 is built against.
 */
const KUBE_MINOR = '36';

/** `$SMS_GATEWAY_CACHE`, else `~/.cache/sms-gateway` (the same cache as the Kafka jars). */
export function cacheDir(): string {
  return process.env['SMS_GATEWAY_CACHE'] || join(homedir(), '.cache', 'sms-gateway');
}

function findGo(): string {
  if (process.env['GO']) return process.env['GO'];
  if (existsSync('/usr/local/go/bin/go')) return '/usr/local/go/bin/go';
  return 'go';
}

/**
 * Path of a Helm binary: `$HELM` when set, else the cached build, else builds it from the Go module proxy
 * into the cache (no prebuilt binary can be downloaded here: only package registries are reachable).
 * Takes about two minutes of CPU the first time; later calls return at once.
 */
export async function ensureHelm(
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<string> {
  if (process.env['HELM']) return process.env['HELM'];
  const dir = join(cacheDir(), `helm-${HELM_VERSION}`);
  const binary = join(dir, 'helm');
  if (existsSync(binary)) return binary;
  mkdirSync(cacheDir(), { recursive: true });
  // Built into a scratch directory and renamed: two test processes building at once never see half a binary.
  const scratch = mkdtempSync(join(cacheDir(), `.helm-build-`));
  const started = Date.now();
  log(
    `[helm] building Helm ${HELM_VERSION} from the Go module proxy into ${dir} (first run only, about 2 minutes)...`,
  );
  const ldflags = [
    '-s -w',
    `-X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}`,
    `-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${KUBE_MINOR}`,
    `-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${KUBE_MINOR}`,
  ].join(' ');
  try {
    await run(findGo(), ['install', '-ldflags', ldflags, `helm.sh/helm/v3/cmd/helm@${HELM_VERSION}`], {
      env: { ...process.env, GOBIN: scratch, GOTOOLCHAIN: 'local', CGO_ENABLED: '0' },
      maxBuffer: 16 * 1024 * 1024,
    });
    if (!existsSync(binary)) {
      mkdirSync(dir, { recursive: true });
      renameSync(join(scratch, 'helm'), binary);
    }
  } catch (error) {
    throw new Error(
      `building Helm ${HELM_VERSION} failed (needs Go 1.24+ and the Go module proxy; or set HELM=/path/to/helm): ${(error as Error).message}`,
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  log(`[helm] built ${binary} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return binary;
}

/** Source of the offline manifest validator (a small Go program over k8s.io/api). */
const validatorSource = resolve(dirname(fileURLToPath(import.meta.url)), '../validate');

/**
 * Path of the k8s-validate binary, built from deploy/helm/validate into the cache when missing. The cache
 * key is a hash of its sources, so a changed validator is rebuilt. About a minute the first time (it
 * compiles k8s.io/api), seconds when Helm was just built (shared Go module and build caches).
 */
export async function ensureValidator(
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<string> {
  const hash = createHash('sha256');
  for (const file of ['main.go', 'go.mod', 'go.sum']) hash.update(readFileSync(join(validatorSource, file)));
  const dir = join(cacheDir(), `k8s-validate-${hash.digest('hex').slice(0, 12)}`);
  const binary = join(dir, 'k8s-validate');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const scratch = `${binary}.${process.pid}.tmp`;
  const started = Date.now();
  log(`[helm] building the manifest validator (deploy/helm/validate) into ${dir} (first run only)...`);
  try {
    await run(findGo(), ['build', '-ldflags', '-s -w', '-o', scratch, '.'], {
      cwd: validatorSource,
      env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly', CGO_ENABLED: '0' },
      maxBuffer: 16 * 1024 * 1024,
    });
    renameSync(scratch, binary);
  } catch (error) {
    rmSync(scratch, { force: true });
    throw new Error(
      `building deploy/helm/validate failed (needs Go and the Go module proxy): ${(error as Error).message}`,
    );
  }
  log(`[helm] built ${binary} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return binary;
}

// `node deploy/helm/dist/ensure-helm.js` builds what the chart test needs (if missing) and prints the paths.
if (process.argv[1]?.endsWith('ensure-helm.js')) {
  process.stdout.write(`${await ensureHelm()}\n${await ensureValidator()}\n`);
}
