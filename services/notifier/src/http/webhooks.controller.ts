import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Req, UseGuards } from '@nestjs/common';
import type { Wakeable } from '../application/webhook-enqueue.service.js';
import { guardWebhookUrl, type GatewayMode, type Resolver } from '../domain/ssrf-guard.js';
import { WebhookEndpointsRepository } from '../infra/webhook-endpoints.repository.js';
import { WebhookSecretsRepository } from '../infra/webhook-secrets.repository.js';
import { WebhookSettingsRepository } from '../infra/webhook-settings.repository.js';
import { ApiKeyGuard, RequireAccess, type AuthenticatedRequest } from './api-key.guard.js';
import { problems } from './problem.js';

export const WEBHOOK_API_OPTIONS = Symbol('WEBHOOK_API_OPTIONS');
export interface WebhookApiOptions {
  mode: GatewayMode;
  resolver: Resolver;
  /** How long the secrets active before a rotation keep signing after it. */
  rotationOverlapMs: number;
  maxEndpointsPerTenant: number;
  dispatcher: Wakeable;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const REPLAY_LIMIT = 1000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The tenant's webhook settings: endpoints, signing secrets, dead letters. Authenticated by ingest's API keys. */
@Controller('v1')
@UseGuards(ApiKeyGuard)
export class WebhooksController {
  constructor(
    @Inject(WebhookEndpointsRepository) private readonly endpoints: WebhookEndpointsRepository,
    @Inject(WebhookSecretsRepository) private readonly secrets: WebhookSecretsRepository,
    @Inject(WebhookSettingsRepository) private readonly settings: WebhookSettingsRepository,
    @Inject(WEBHOOK_API_OPTIONS) private readonly options: WebhookApiOptions,
  ) {}

  @Post('webhook-endpoints')
  @HttpCode(201)
  @RequireAccess('write')
  async create(@Req() request: AuthenticatedRequest, @Body() body: unknown) {
    if (!isObject(body)) throw problems.validation([{ field: '(body)', code: 'invalid_type', message: 'the body must be a JSON object' }]);
    const errors: { field: string; code: string; message: string }[] = [];
    if (typeof body.url !== 'string' || body.url.length === 0 || body.url.length > 2048) {
      errors.push({ field: 'url', code: 'invalid', message: 'a URL of at most 2048 characters is required' });
    }
    if (body.description !== undefined && (typeof body.description !== 'string' || body.description.length > 256)) {
      errors.push({ field: 'description', code: 'invalid', message: 'at most 256 characters' });
    }
    if (errors.length > 0) throw problems.validation(errors);
    const url = body.url as string;
    // Checked now (a refused URL is an error the tenant can fix) and again at every delivery (DNS changes).
    let verdict;
    try {
      verdict = await guardWebhookUrl(url, this.options.mode, this.options.resolver);
    } catch (error) {
      throw problems.refusedUrl(`host does not resolve (${(error as NodeJS.ErrnoException).code ?? 'lookup failed'})`);
    }
    if (!verdict.ok) throw problems.refusedUrl(verdict.reason);
    const created = await this.endpoints.create(request.apiKey.tenantId, url, (body.description as string | undefined) ?? null, this.options.maxEndpointsPerTenant);
    if (created === 'limit') throw problems.conflict(`at most ${this.options.maxEndpointsPerTenant} webhook endpoints per tenant`);
    return created;
  }

  @Get('webhook-endpoints')
  @RequireAccess('read')
  async list(@Req() request: AuthenticatedRequest) {
    return { data: await this.endpoints.list(request.apiKey.tenantId) };
  }

  @Delete('webhook-endpoints/:id')
  @HttpCode(204)
  @RequireAccess('write')
  async remove(@Req() request: AuthenticatedRequest, @Param('id') id: string): Promise<void> {
    if (!uuidPattern.test(id) || !(await this.endpoints.delete(request.apiKey.tenantId, id.toLowerCase()))) {
      throw problems.notFound('webhook endpoint');
    }
  }

  /** The signing secrets receivers should accept now (two during a rotation). */
  @Get('webhook-secret')
  @RequireAccess('read')
  async secret(@Req() request: AuthenticatedRequest) {
    return { secrets: await this.secrets.describe(request.apiKey.tenantId) };
  }

  @Post('webhook-secret/rotate')
  @HttpCode(201)
  @RequireAccess('write')
  async rotate(@Req() request: AuthenticatedRequest) {
    return this.secrets.rotate(request.apiKey.tenantId, this.options.rotationOverlapMs);
  }

  /** `includeBody`: the tenant's opt-in to receive message bodies in webhooks (default false). */
  @Get('webhook-settings')
  @RequireAccess('read')
  async getSettings(@Req() request: AuthenticatedRequest) {
    return this.settings.get(request.apiKey.tenantId);
  }

  /**
   * Opting in applies to messages accepted from then on (bodies are kept only for opted-in tenants, so
   * earlier messages have none: `data.body` is null). Opting out stops bodies at once and deletes the kept ones.
   */
  @Put('webhook-settings')
  @RequireAccess('write')
  async putSettings(@Req() request: AuthenticatedRequest, @Body() body: unknown) {
    if (!isObject(body)) throw problems.validation([{ field: '(body)', code: 'invalid_type', message: 'the body must be a JSON object' }]);
    if (typeof body.includeBody !== 'boolean') throw problems.validation([{ field: 'includeBody', code: 'invalid_type', message: 'true or false is required' }]);
    const unknown = Object.keys(body).filter((k) => k !== 'includeBody');
    if (unknown.length > 0) throw problems.validation(unknown.map((field) => ({ field, code: 'unrecognized', message: 'not a webhook setting' })));
    return this.settings.set(request.apiKey.tenantId, body.includeBody);
  }

  @Get('webhook-dead-letters')
  @RequireAccess('read')
  async deadLetters(@Req() request: AuthenticatedRequest, @Query('limit') limitText?: string, @Query('before') before?: string) {
    const limit = limitText === undefined ? 100 : Number(limitText);
    const errors: { field: string; code: string; message: string }[] = [];
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) errors.push({ field: 'limit', code: 'invalid', message: 'an integer from 1 to 1000' });
    if (before !== undefined && Number.isNaN(Date.parse(before))) errors.push({ field: 'before', code: 'invalid', message: 'an ISO timestamp' });
    if (errors.length > 0) throw problems.validation(errors);
    return { data: await this.endpoints.deadLetters(request.apiKey.tenantId, limit, before) };
  }

  /** Requeues dead deliveries (all, or `webhookIds`) with a fresh retry schedule; up to 1000 per call. */
  @Post('webhook-dead-letters/replay')
  @HttpCode(202)
  @RequireAccess('write')
  async replay(@Req() request: AuthenticatedRequest, @Body() body: unknown) {
    let webhookIds: string[] | undefined;
    if (body !== undefined && body !== null && body !== '') {
      if (!isObject(body)) throw problems.validation([{ field: '(body)', code: 'invalid_type', message: 'the body must be a JSON object' }]);
      if (body.webhookIds !== undefined) {
        if (!Array.isArray(body.webhookIds) || body.webhookIds.length > REPLAY_LIMIT || !body.webhookIds.every((id) => typeof id === 'string' && id.length <= 128)) {
          throw problems.validation([{ field: 'webhookIds', code: 'invalid', message: `an array of at most ${REPLAY_LIMIT} webhook ids` }]);
        }
        webhookIds = body.webhookIds as string[];
      }
    }
    const replayed = await this.endpoints.replay(request.apiKey.tenantId, webhookIds, REPLAY_LIMIT);
    if (replayed.length > 0) this.options.dispatcher.wake();
    return { replayed: replayed.length, deliveries: replayed };
  }
}
