import { Controller, Get, Headers, Inject, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { trafficClassSchema, e164Schema } from '@sms/contracts';
import { z } from 'zod';
import { CarrierHealthStore } from '../infra/carrier-health.listener.js';
import { RouteConfigSource } from '../infra/route-config.source.js';
import { explainRoute } from '../application/explain.js';
import { ROUTER_ADMIN_TOKEN, problem, refuseUnlessAdmin } from './admin-auth.js';

const resolveQuery = z.object({
  to: e164Schema,
  trafficClass: trafficClassSchema.default('transactional'),
  tenant: z.string().min(1).default('default'),
  from: z.string().min(1).max(16).optional(),
  messageId: z.string().min(1).max(64).optional(),
  sandbox: z.enum(['true', 'false']).optional(),
});

/** Admin: which carrier a message would get, and why; reload the gateway file on demand. */
@Controller('v1/routes')
export class RoutesController {
  constructor(
    @Inject(RouteConfigSource) private readonly config: RouteConfigSource,
    @Inject(CarrierHealthStore) private readonly health: CarrierHealthStore,
    @Inject(ROUTER_ADMIN_TOKEN) private readonly token: string | undefined,
  ) {}

  @Get('resolve')
  async resolve(@Query() query: Record<string, string>, @Headers('authorization') authorization: string | undefined, @Res() reply: FastifyReply) {
    if (await refuseUnlessAdmin(this.token, authorization, reply)) return;
    const parsed = resolveQuery.safeParse(query);
    if (!parsed.success) {
      await problem(
        reply,
        400,
        'Invalid query',
        'see errors',
        parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })),
      );
      return;
    }
    const q = parsed.data;
    const explanation = explainRoute(
      this.config.current(),
      { to: q.to, trafficClass: q.trafficClass, tenantId: q.tenant, from: q.from, messageId: q.messageId, sandbox: q.sandbox === 'true' },
      this.health,
    );
    await reply.send(explanation);
  }

  @Get('health')
  async carrierHealth(@Headers('authorization') authorization: string | undefined, @Res() reply: FastifyReply) {
    if (await refuseUnlessAdmin(this.token, authorization, reply)) return;
    await reply.send({ carriers: this.health.snapshot() });
  }

  @Post('reload')
  async reload(@Headers('authorization') authorization: string | undefined, @Res() reply: FastifyReply) {
    if (await refuseUnlessAdmin(this.token, authorization, reply)) return;
    const result = this.config.reload();
    if (result.ok) await reply.send(result);
    else await problem(reply, 422, 'Gateway config refused', 'the previous routes are kept', result.problems.map((p) => ({ field: 'GATEWAY_CONFIG_FILE', message: p })));
  }
}
