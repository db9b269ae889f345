import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply } from 'fastify';

export const ROUTER_ADMIN_TOKEN = Symbol('ROUTER_ADMIN_TOKEN');

/**
 * Bearer check for the router's admin endpoints. Without a configured token the admin API is off (403),
 * so a deployment that forgot the secret does not serve it open.
 */
export async function refuseUnlessAdmin(token: string | undefined, authorization: string | undefined, reply: FastifyReply): Promise<boolean> {
  if (!token) {
    await problem(reply, 403, 'Admin API disabled', 'set ROUTER_ADMIN_TOKEN to enable the router admin endpoints');
    return true;
  }
  const presented = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1] ?? '';
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    reply.header('www-authenticate', 'Bearer');
    await problem(reply, 401, 'Unauthorized', 'a valid admin bearer token is required');
    return true;
  }
  return false;
}

export async function problem(reply: FastifyReply, status: number, title: string, detail: string, errors?: { field: string; message: string }[]): Promise<void> {
  await reply
    .status(status)
    .header('content-type', 'application/problem+json')
    .send({ type: 'about:blank', title, status, detail, ...(errors ? { errors } : {}) });
}
