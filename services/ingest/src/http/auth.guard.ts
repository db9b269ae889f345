import { Inject, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { hashApiKey, type ApiKeyScope } from '../domain/api-key.js';
import { TenantsRepository, type AuthenticatedTenant } from '../infra/tenants.repository.js';
import { problems } from './problem.js';

export const REQUIRED_SCOPE = 'required-scope';
export const RequireScope = (scope: ApiKeyScope) => SetMetadata(REQUIRED_SCOPE, scope);

export type AuthenticatedRequest = FastifyRequest & { tenant: AuthenticatedTenant };

/**
 * Bearer API keys. Lookups are cached briefly (positive 30 s, negative 5 s) so the hot path does not hit
 * PostgreSQL per request; a revoked key stops working within the positive TTL.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly cache = new Map<string, { tenant?: AuthenticatedTenant; until: number }>();

  constructor(
    @Inject(TenantsRepository) private readonly tenants: TenantsRepository,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw problems.unauthorized('send `Authorization: Bearer <api key>`');
    const hash = hashApiKey(match[1]!);
    const now = Date.now();
    let entry = this.cache.get(hash);
    if (!entry || entry.until < now) {
      const tenant = await this.tenants.findByKeyHash(hash);
      entry = { tenant, until: now + (tenant ? 30_000 : 5_000) };
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(hash, entry);
    }
    if (!entry.tenant) throw problems.unauthorized('unknown or revoked API key');
    const scope = this.reflector.get<ApiKeyScope | undefined>(REQUIRED_SCOPE, context.getHandler());
    if (scope && !entry.tenant.scopes.includes(scope)) throw problems.forbidden(`this key lacks the \`${scope}\` scope`);
    request.tenant = entry.tenant;
    return true;
  }
}
