import { Inject, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { hashApiKey, type ApiKeyScope } from '../domain/api-key.js';
import type { TenantRateLimiter } from '../domain/rate-limiter.js';
import { TenantsRepository, type AuthenticatedTenant } from '../infra/tenants.repository.js';
import { problems } from './problem.js';

export const REQUIRED_SCOPE = 'required-scope';
export const RequireScope = (scope: ApiKeyScope) => SetMetadata(REQUIRED_SCOPE, scope);
export const AUTH_OPTIONS = Symbol('AUTH_OPTIONS');

export interface AuthOptions {
  /** How long a found key is cached (ms); a revocation takes effect on this replica within it. */
  positiveCacheMs: number;
  limiter: TenantRateLimiter;
}

export type AuthenticatedRequest = FastifyRequest & { tenant: AuthenticatedTenant };

/**
 * Bearer API keys, then the tenant's rate limit. Lookups are cached briefly (found keys for
 * `API_KEY_CACHE_MS`, default 5 s; unknown keys 1 s) so the hot path does not hit PostgreSQL per request.
 * A key revoked with the admin CLI stops working on every replica within the positive TTL.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly cache = new Map<string, { tenant?: AuthenticatedTenant; until: number }>();

  constructor(
    @Inject(TenantsRepository) private readonly tenants: TenantsRepository,
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(AUTH_OPTIONS) private readonly options: AuthOptions,
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
      entry = { tenant, until: now + (tenant ? this.options.positiveCacheMs : 1_000) };
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(hash, entry);
    }
    if (!entry.tenant) throw problems.unauthorized('unknown or revoked API key');
    const scope = this.reflector.get<ApiKeyScope | undefined>(REQUIRED_SCOPE, context.getHandler());
    if (scope && !entry.tenant.scopes.includes(scope)) throw problems.forbidden(`this key lacks the \`${scope}\` scope`);
    const wait = this.options.limiter.take(entry.tenant.tenantId, entry.tenant.rateLimitPerSecond);
    if (wait > 0) throw problems.tooManyRequests(wait);
    request.tenant = entry.tenant;
    return true;
  }
}
