#!/usr/bin/env node
// Which carrier would a message get, and why. Offline from the gateway file (no health: every breaker
// counts as closed), or from a running router with --url (its live table and carrier health).
import { parseArgs } from 'node:util';
import { GatewayFileError, loadGatewayFile } from '@sms/config';
import { trafficClassSchema } from '@sms/contracts';
import { explainRoute, type RouteExplanation } from './application/explain.js';
import { routeTableOf } from './infra/route-config.source.js';

const usage = `usage: explain-cli --to +447911000001 [--class otp|transactional|promotional] [--tenant id] [--from SENDER]
                   [--message-id id] [--sandbox] [--json]
                   [--config gateway.yaml | --url http://127.0.0.1:8082 [--token T]]
  --config defaults to $GATEWAY_CONFIG_FILE; --token to $ROUTER_ADMIN_TOKEN.`;

export function formatExplanation(e: RouteExplanation): string {
  const lines = [`${e.outcome.status}: ${e.outcome.reason.code}${e.outcome.reason.message ? ` - ${e.outcome.reason.message}` : ''}`];
  lines.push(`number ${e.request.to} (country ${e.request.country ?? 'unknown'}), class ${e.request.trafficClass}, tenant ${e.request.tenantId}`);
  if (e.decision) {
    lines.push(`carrier ${e.carrier ?? '-'} via rule ${e.routeId} (${e.decision.rule}), ${e.decision.strategy}; attempt order: ${e.decision.failoverOrder.join(' -> ') || '-'}`);
    for (const s of e.decision.skipped) lines.push(`  skipped ${s.carrierId}: ${s.reason}`);
  }
  lines.push('rules:');
  for (const r of e.rules) lines.push(`  ${r.chosen ? '*' : r.matched ? '+' : '-'} ${r.routeId}: ${r.detail}`);
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      to: { type: 'string' },
      class: { type: 'string', default: 'transactional' },
      tenant: { type: 'string', default: 'default' },
      from: { type: 'string' },
      'message-id': { type: 'string' },
      sandbox: { type: 'boolean', default: false },
      config: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.to) {
    process.stderr.write(`${usage}\n`);
    return values.help ? 0 : 2;
  }
  const trafficClass = trafficClassSchema.safeParse(values.class);
  if (!trafficClass.success) {
    process.stderr.write(`--class must be otp, transactional or promotional\n${usage}\n`);
    return 2;
  }
  let explanation: RouteExplanation;
  if (values.url) {
    const query = new URLSearchParams({ to: values.to, trafficClass: trafficClass.data, tenant: values.tenant });
    if (values.from) query.set('from', values.from);
    if (values['message-id']) query.set('messageId', values['message-id']);
    if (values.sandbox) query.set('sandbox', 'true');
    const token = values.token ?? process.env.ROUTER_ADMIN_TOKEN ?? '';
    const response = await fetch(new URL(`/v1/routes/resolve?${query.toString()}`, values.url), { headers: { authorization: `Bearer ${token}` } });
    const body = await response.text();
    if (!response.ok) {
      process.stderr.write(`${response.status}: ${body}\n`);
      return 1;
    }
    explanation = JSON.parse(body) as RouteExplanation;
  } else {
    const file = values.config ?? process.env.GATEWAY_CONFIG_FILE;
    if (!file) {
      process.stderr.write(`--config or GATEWAY_CONFIG_FILE is required without --url\n${usage}\n`);
      return 2;
    }
    try {
      explanation = explainRoute(routeTableOf(loadGatewayFile(file)), {
        to: values.to,
        trafficClass: trafficClass.data,
        tenantId: values.tenant,
        from: values.from,
        messageId: values['message-id'],
        sandbox: values.sandbox,
      });
    } catch (error) {
      if (error instanceof GatewayFileError) {
        process.stderr.write(`${error.message}\n`);
        return 1;
      }
      throw error;
    }
  }
  process.stdout.write(values.json ? `${JSON.stringify(explanation, null, 2)}\n` : `${formatExplanation(explanation)}\n`);
  return explanation.carrier ? 0 : 3;
}

process.exitCode = await main(process.argv.slice(2));
