import { Body, Controller, Delete, Get, Headers, Inject, Param, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { e164Schema } from '@sms/contracts';
import { z } from 'zod';
import { normalizeSender } from '../domain/opt-out.js';
import { validTemplate } from '../domain/templates.js';
import { ComplianceRepository } from '../infra/compliance.repository.js';
import { ROUTER_ADMIN_TOKEN, problem, refuseUnlessAdmin } from './admin-auth.js';

const tenantSchema = z.string().min(1).max(128);
const numberBody = z.object({ number: e164Schema });
const senderBody = z.object({
  sender: z.string().min(1).max(16),
  /** Countries the sender is registered for (ISO alpha-2); omitted: every country. */
  countries: z.array(z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166 alpha-2 code like GB')).optional(),
});

/** Admin: a tenant's opt-out list and registered senders (which feed MO STOP/START to tenants). */
@Controller('v1/tenants/:tenant')
export class ComplianceController {
  constructor(
    @Inject(ComplianceRepository) private readonly repository: ComplianceRepository,
    @Inject(ROUTER_ADMIN_TOKEN) private readonly token: string | undefined,
  ) {}

  @Get('opt-outs')
  async listOptOuts(@Param('tenant') tenant: string, @Headers('authorization') auth: string | undefined, @Res() reply: FastifyReply) {
    if (await refuseUnlessAdmin(this.token, auth, reply)) return;
    if (!(await validTenant(tenant, reply))) return;
    await reply.send({ tenant, optOuts: await this.repository.listOptOuts(tenant) });
  }

  @Post('opt-outs')
  async addOptOut(@Param('tenant') tenant: string, @Body() body: unknown, @Headers('authorization') auth: string | undefined, @Res() reply: FastifyReply) {
    if (await refuseUnlessAdmin(this.token, auth, reply)) return;
    if (!(await validTenant(tenant, reply))) return;
    const parsed = numberBody.safeParse(body);
    if (!parsed.success) return invalid(reply, parsed.error);
    await this.repository.addOptOut(tenant, parsed.data.number, 'api');
    await reply.status(201).send({ tenant, number: parsed.data.number });
  }

  @Delete('opt-outs/:number')
  async removeOptOut(@Param('tenant') tenant: string, @Param('number') number: string, @Headers('authorization') auth: string | undefined, @Res() reply: FastifyReply) {
    if (await refuseUnlessAdmin(this.token, auth, reply)) return;
    if (!(await validTenant(tenant, reply))) return;
    const removed = await this.repository.removeOptOut(tenant, number);
    if (removed) await reply.status(204).send();
    else await problem(reply, 404, 'Not found', 'this number is not on the tenant\'s opt-out list');
  }

  @Get('senders')
  async listSenders(@Param('tenant') tenant: string, @Headers('authorization') auth: string | undefined, @Res() reply: FastifyReply) {
    if (await refuseUnlessAdmin(this.token, auth, reply)) return;
    if (!(await validTenant(tenant, reply))) return;
    await reply.send({ tenant, senders: await this.repository.listSenders(tenant) });
  }

  @Post('senders')
  async registerSender(@Param('tenant') tenant: string, @Body() body: unknown, @Headers('authorization') auth: string | undefined, @Res() reply: FastifyReply) {
    if (await refuseUnlessAdmin(this.token, auth, reply)) return;
    if (!(await validTenant(tenant, reply))) return;
    const parsed = senderBody.safeParse(body);
    if (!parsed.success) return invalid(reply, parsed.error);
    const sender = normalizeSender(parsed.data.sender);
    await this.repository.registerSender(tenant, sender, parsed.data.countries ?? []);
    await reply.status(201).send({ tenant, sender, countries: parsed.data.countries ?? [] });
  }

  @Get('templates')
  async listTemplates(@Param('tenant') tenant: string, @Headers('authorization') auth: string | undefined, @Res() reply: FastifyReply) {
    if (await refuseUnlessAdmin(this.token, auth, reply)) return;
    if (!(await validTenant(tenant, reply))) return;
    await reply.send({ tenant, templates: await this.repository.listTemplates(tenant) });
  }

  @Post('templates')
  async addTemplate(@Param('tenant') tenant: string, @Body() body: unknown, @Headers('authorization') auth: string | undefined, @Res() reply: FastifyReply) {
    if (await refuseUnlessAdmin(this.token, auth, reply)) return;
    if (!(await validTenant(tenant, reply))) return;
    const parsed = templateBody.safeParse(body);
    if (!parsed.success) return invalid(reply, parsed.error);
    await this.repository.addTemplate(tenant, parsed.data.country, parsed.data.template.trim());
    await reply.status(201).send({ tenant, ...parsed.data });
  }

  @Delete('templates/:id')
  async removeTemplate(@Param('tenant') tenant: string, @Param('id') id: string, @Headers('authorization') auth: string | undefined, @Res() reply: FastifyReply) {
    if (await refuseUnlessAdmin(this.token, auth, reply)) return;
    if (!(await validTenant(tenant, reply))) return;
    if (!/^\d{1,18}$/.test(id)) return problem(reply, 404, 'Not found', 'no such template');
    if (await this.repository.removeTemplate(tenant, id)) await reply.status(204).send();
    else await problem(reply, 404, 'Not found', 'no such template');
  }

  @Delete('senders/:sender')
  async removeSender(@Param('tenant') tenant: string, @Param('sender') sender: string, @Headers('authorization') auth: string | undefined, @Res() reply: FastifyReply) {
    if (await refuseUnlessAdmin(this.token, auth, reply)) return;
    if (!(await validTenant(tenant, reply))) return;
    const removed = await this.repository.removeSender(tenant, normalizeSender(sender));
    if (removed) await reply.status(204).send();
    else await problem(reply, 404, 'Not found', 'this sender is not registered for the tenant');
  }
}

const templateBody = z.object({
  country: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166 alpha-2 code like IN'),
  template: z.string().min(1).max(2000).superRefine((t, ctx) => {
    const problem = validTemplate(t);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
});

async function validTenant(tenant: string, reply: FastifyReply): Promise<boolean> {
  if (tenantSchema.safeParse(tenant).success) return true;
  await problem(reply, 400, 'Invalid tenant', 'tenant is 1 to 128 characters');
  return false;
}

async function invalid(reply: FastifyReply, error: z.ZodError): Promise<void> {
  await problem(reply, 400, 'Invalid body', 'see errors', error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })));
}
