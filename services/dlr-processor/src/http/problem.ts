import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** RFC 9457 problem details, as the rest of the gateway answers errors. */
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
  unauthorized: (detail: string) => new ProblemException({ type: `${typeBase}bad-signature`, title: 'Invalid signature', status: 401, detail }),
  notFound: (detail: string) => new ProblemException({ type: `${typeBase}not-found`, title: 'Not found', status: 404, detail }),
  unsupportedMediaType: () =>
    new ProblemException({ type: `${typeBase}415`, title: 'Unsupported media type', status: 415, detail: 'send the body as application/json' }),
  unavailable: () =>
    new ProblemException(
      { type: `${typeBase}unavailable`, title: 'Temporarily unavailable', status: 503, detail: 'the receipt was not stored; send it again' },
      { 'retry-after': '5' },
    ),
};

/** Every error leaves as application/problem+json; unexpected ones as an opaque 500. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly logger: { error(fields: object, message: string): void }) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    let body: ProblemBody;
    let headers: Record<string, string> = {};
    const status = exception instanceof HttpException ? exception.getStatus() : (exception as { statusCode?: unknown }).statusCode;
    if (exception instanceof ProblemException) {
      body = { ...exception.problem };
      headers = exception.headers;
    } else if (typeof status === 'number' && status >= 400 && status < 500) {
      body = { type: `${typeBase}${status}`, title: 'Request failed', status, detail: (exception as Error).message };
    } else {
      this.logger.error({ error: (exception as Error)?.message }, 'unhandled error');
      body = { type: `${typeBase}internal`, title: 'Internal error', status: 500, detail: 'an unexpected error occurred' };
    }
    body.instance = request.url.split('?')[0];
    void reply.status(body.status).headers(headers).type('application/problem+json').send(body);
  }
}
