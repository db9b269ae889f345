// Tenants and API keys: `npm run admin -- <command>`. Connects to ingest's schema with DATABASE_URL (and
// runs ingest's migrations first, so it works on a fresh database). Every key change also goes out on the
// api-key-changed topic through the outbox, relayed by any running ingest.
import { parseArgs } from 'node:util';
import { openServiceDatabase } from '@sms/platform';
import { apiKeyScopes, type ApiKeyScope } from './domain/api-key.js';
import { ingestMigrations } from './infra/migrations/index.js';
import { TenantsRepository } from './infra/tenants.repository.js';

const usage = `usage: npm run admin -- <command>
  create-tenant --tenant <id> [--name <name>] [--sandbox] [--rate-limit <requests per second>]
  create-key    --tenant <id> [--scopes send,read]      prints the key once; only its hash is stored
  revoke-key    <key prefix or key id>
  list-keys     --tenant <id>
environment: DATABASE_URL`;

export async function runAdmin(argv: string[], out: (line: string) => void = console.log): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      name: { type: 'string' },
      sandbox: { type: 'boolean', default: false },
      'rate-limit': { type: 'string' },
      scopes: { type: 'string', default: 'send,read' },
      json: { type: 'boolean', default: false },
    },
  });
  const [command, argument] = positionals;
  const fail = (message: string) => {
    out(`error: ${message}\n${usage}`);
    return 2;
  };
  if (!command) return fail('no command');
  const url = process.env.DATABASE_URL;
  if (!url) return fail('DATABASE_URL is not set');
  const needsTenant = ['create-tenant', 'create-key', 'list-keys'].includes(command);
  if (needsTenant && !values.tenant) return fail(`${command} needs --tenant`);
  if (needsTenant && !/^[A-Za-z0-9._-]{1,64}$/.test(values.tenant!)) return fail('a tenant id is 1-64 letters, digits, dots, dashes or underscores');

  const db = await openServiceDatabase({ url, schema: 'ingest', migrations: ingestMigrations, applicationName: 'ingest-admin', poolSize: 2 });
  const tenants = new TenantsRepository(db);
  try {
    switch (command) {
      case 'create-tenant': {
        const rate = values['rate-limit'] === undefined ? undefined : Number(values['rate-limit']);
        if (rate !== undefined && !(Number.isInteger(rate) && rate > 0)) return fail('--rate-limit is a positive integer');
        await tenants.upsertTenant(values.tenant!, values.name ?? values.tenant!, values.sandbox ?? false, rate);
        out(`tenant ${values.tenant}${values.sandbox ? ' (sandbox: simulator carriers only)' : ''} ready`);
        return 0;
      }
      case 'create-key': {
        const scopes = values.scopes!.split(',').map((s) => s.trim()).filter(Boolean);
        const unknown = scopes.filter((s) => !(apiKeyScopes as readonly string[]).includes(s));
        if (scopes.length === 0 || unknown.length > 0) return fail(`scopes are ${apiKeyScopes.join(', ')}`);
        if (!(await tenants.tenantExists(values.tenant!))) return fail(`tenant ${values.tenant} does not exist (create-tenant first)`);
        const created = await tenants.createKey(values.tenant!, scopes as ApiKeyScope[]);
        if (values.json) out(JSON.stringify(created));
        else out(`${created.key}\n(shown once; prefix ${created.prefix}, id ${created.id}, scopes ${scopes.join(',')})`);
        return 0;
      }
      case 'revoke-key': {
        if (!argument) return fail('revoke-key needs a key prefix or id');
        const count = await tenants.revokeKey(argument);
        if (count === 'ambiguous') {
          out(`${argument} matches several active keys: revoke by key id (see list-keys)`);
          return 1;
        }
        if (count === 0) {
          out(`no active key matches ${argument}`);
          return 1;
        }
        out(`revoked ${count} key${count > 1 ? 's' : ''}`);
        return 0;
      }
      case 'list-keys': {
        const keys = await tenants.listKeys(values.tenant!);
        if (values.json) out(JSON.stringify(keys));
        else for (const k of keys) out(`${k.prefix}  ${k.id}  ${k.scopes.join(',')}  created ${k.createdAt}${k.revokedAt ? `  revoked ${k.revokedAt}` : ''}`);
        return 0;
      }
      default:
        return fail(`unknown command ${command}`);
    }
  } finally {
    await db.destroy();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runAdmin(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`error: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
