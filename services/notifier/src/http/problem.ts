import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '@sms/platform';

/** RFC 9457 problem details, the same shape ingest's API answers with. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: { field: string; code: string; message: string }[];
}

export class ProblemException extends Error {
  constructor(
    readonly problem: ProblemBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(problem.detail ?? problem.title);
  }
}

const typeBase = 'https://sms-gateway.dev/problems/';

export const problems = {
  validation: (errors: { field: string; code: string; message: string }[]) =>
    new ProblemException({
      type: `${typeBase}validation`,
      title: 'The request is invalid',
      status: 400,
      detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '),
      errors,
    }),
  unauthorized: (detail: string) =>
    new ProblemException({ type: `${typeBase}unauthorized`, title: 'Missing or invalid API key', status: 401, detail }, { 'www-authenticate': 'Bearer' }),
  forbidden: (detail: string) => new ProblemException({ type: `${typeBase}forbidden`, title: 'The API key lacks a scope', status: 403, detail }),
  notFound: (what: string) => new ProblemException({ type: `${typeBase}not-found`, title: 'Not found', status: 404, detail: `${what} not found` }),
  conflict: (detail: string) => new ProblemException({ type: `${typeBase}conflict`, title: 'Conflict', status: 409, detail }),
  refusedUrl: (reason: string) =>
    new ProblemException({
      type: `${typeBase}webhook-url-refused`,
      title: 'The webhook URL is not allowed',
      status: 422,
      detail: reason,
      errors: [{ field: 'url', code: 'url_refused', message: reason }],
    }),
};

/** Every error leaves the API as application/problem+json; unexpected ones as an opaque 500. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const { body, headers } = this.toProblem(exception);
    body.instance = request.url.split('?')[0];
    void reply.status(body.status).headers(headers).type('application/problem+json').send(body);
  }

  private toProblem(exception: unknown): { body: ProblemBody; headers: Record<string, string> } {
    if (exception instanceof ProblemException) return { body: { ...exception.problem }, headers: exception.headers };
    const status = exception instanceof HttpException ? exception.getStatus() : (exception as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Nest's own (unknown route) and fastify's (malformed JSON, body too large, wrong content type).
      const detail = (exception as Error).message;
      const body: ProblemBody = { type: `${typeBase}${status}`, title: status === 404 ? 'Not found' : 'The request is invalid', status, detail };
      if (status === 400) body.errors = [{ field: '(body)', code: 'malformed_json', message: detail }];
      return { body, headers: {} };
    }
    this.logger.error({ error: (exception as Error)?.message, stack: (exception as Error)?.stack }, 'unhandled error');
    return { body: { type: `${typeBase}internal`, title: 'Internal error', status: 500, detail: 'an unexpected error occurred' }, headers: {} };
  }
}
