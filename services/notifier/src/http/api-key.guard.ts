import { createHash } from 'node:crypto';
import { Inject, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiKeysRepository, type AuthenticatedKey } from '../infra/api-keys.repository.js';
import { problems } from './problem.js';

/** Same hash as ingest's `hashApiKey` (services/ingest/src/domain/api-key.ts); copied, services never import each other. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export type WebhookApiAccess = 'read' | 'write';
const ACCESS = 'webhook-api-access';
export const RequireAccess = (access: WebhookApiAccess) => SetMetadata(ACCESS, access);

/**
 * ingest's scopes are `send` and `read`. Reading webhook settings needs `read`; changing them (and
 * replaying) needs `send`, the scope of the keys that make webhooks happen. A `webhooks` scope, should
 * ingest add one, grants both.
 */
const scopesFor: Record<WebhookApiAccess, readonly string[]> = { read: ['read', 'send', 'webhooks'], write: ['send', 'webhooks'] };

export type AuthenticatedRequest = FastifyRequest & { apiKey: AuthenticatedKey };

/**
 * `Authorization: Bearer <key>`, checked against notifier's copy of the keys (ApiKeyChangedV1). Not cached:
 * the webhook API is low-volume and a revocation must apply at once; the lookup is a primary-key read.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(ApiKeysRepository) private readonly keys: ApiKeysRepository,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw problems.unauthorized('send `Authorization: Bearer <api key>`');
    const key = await this.keys.findActive(hashApiKey(match[1]!));
    if (!key) throw problems.unauthorized('unknown or revoked API key');
    const access = this.reflector.get<WebhookApiAccess | undefined>(ACCESS, context.getHandler()) ?? 'write';
    if (!key.scopes.some((s) => scopesFor[access].includes(s))) {
      throw problems.forbidden(`this operation needs one of the scopes ${scopesFor[access].join(', ')}`);
    }
    request.apiKey = key;
    return true;
  }
}
