import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
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

// `node deploy/helm/dist/ensure-helm.js` prints the binary's path (builds it first if needed).
if (process.argv[1]?.endsWith('ensure-helm.js')) {
  process.stdout.write(`${await ensureHelm()}\n`);
}
