import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';
import { ReadinessRegistry } from './readiness.js';

export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/** Liveness, readiness and Prometheus metrics: the same three endpoints on every service. */
@Controller()
export class OpsController {
  constructor(
    @Inject(ReadinessRegistry) private readonly readiness: ReadinessRegistry,
    @Inject(METRICS_REGISTRY) private readonly metrics: Registry,
  ) {}

  @Get('health/live')
  live() {
    return { status: 'ok' };
  }

  @Get('health/ready')
  async ready(@Res() reply: FastifyReply) {
    const report = await this.readiness.report();
    await reply.status(report.ready ? 200 : 503).send(report);
  }

  @Get('metrics')
  async prometheus(@Res() reply: FastifyReply) {
    const body = await this.metrics.metrics();
    await reply.header('content-type', this.metrics.contentType).send(body);
  }
}
