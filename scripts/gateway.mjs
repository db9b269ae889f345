#!/usr/bin/env node
// Entry point of `npm start` and `npm test` on a fresh clone: no dependency may be assumed here, so this
// file is plain Node. It installs what is missing, builds, then hands over to the compiled gateway CLI.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (line) => process.stdout.write(`[gateway] ${line}\n`);

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`Node ${process.versions.node} is too old: the gateway needs Node 20.19 or newer.`);
  process.exit(1);
}

function run(command, args, what) {
  const started = Date.now();
  log(`${what}...`);
  try {
    execFileSync(command, args, { cwd: root, stdio: 'inherit' });
  } catch {
    console.error(`[gateway] ${what} failed (see the output above). Fix it and run the command again.`);
    process.exit(1);
  }
  log(`${what}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const installed = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(installed) || statSync(join(root, 'package-lock.json')).mtimeMs > statSync(installed).mtimeMs) {
  run('npm', ['ci', '--no-audit', '--no-fund'], 'installing npm dependencies (first run only)');
}
run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json'], 'compiling TypeScript (incremental)');

const [command = 'start', ...rest] = process.argv.slice(2);
// The Helm chart test (unit tier) needs a helm binary. Building one on a fresh machine takes minutes,
// more than a unit test file may run, so it is built here before the tiers start (instant once cached).
if (command === 'test' && (rest.length === 0 || rest.includes('unit'))) {
  run(process.execPath, [join(root, 'deploy/helm/dist/ensure-helm.js')], 'Helm and the manifest validator for the chart test (built once with Go)');
}
process.argv = [process.argv[0], 'gateway-cli', command, ...rest];
await import(pathToFileURL(join(root, 'deploy/local/dist/gateway/cli.js')).href);
