import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from './logger.js';

/** A bad field in a request: what the `errors` array of a 400 names. */
export interface FieldProblem {
  field: string;
  code: string;
  message: string;
}

/** RFC 9457 problem details; `errors` names each bad field. Every service's HTTP API answers errors so. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldProblem[];
}

export class ProblemException extends Error {
  constructor(
    readonly problem: ProblemBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(problem.detail ?? problem.title);
  }
}

export const problemTypeBase = 'https://sms-gateway.dev/problems/';
const typeBase = problemTypeBase;

/** 400 naming each bad field. */
export function validationProblem(errors: FieldProblem[]): ProblemException {
  return new ProblemException({
    type: `${typeBase}validation`,
    title: 'The request is invalid',
    status: 400,
    detail: errors.map((e) => `${e.field}: ${e.message}`).join('; '),
    errors,
  });
}

function problemFromStatus(status: number, detail: string): ProblemBody {
  const titles: Record<number, string> = {
    400: 'The request is invalid',
    404: 'Not found',
    405: 'Method not allowed',
    413: 'Request body too large',
    415: 'Unsupported media type',
    429: 'Too many requests',
  };
  return { type: `${typeBase}${status}`, title: titles[status] ?? 'Request failed', status, detail };
}

/** Every error leaves the API as application/problem+json; unexpected ones as an opaque 500. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const { body, headers } = toProblem(exception, this.logger);
    body.instance = request.url.split('?')[0];
    void reply.status(body.status).headers(headers).type('application/problem+json').send(body);
  }
}

export function toProblem(exception: unknown, logger: Logger): { body: ProblemBody; headers: Record<string, string> } {
  if (exception instanceof ProblemException) return { body: { ...exception.problem }, headers: exception.headers };
  if (exception instanceof HttpException) {
    const response = exception.getResponse();
    const detail = typeof response === 'string' ? response : ((response as { message?: unknown }).message?.toString() ?? exception.message);
    const body = problemFromStatus(exception.getStatus(), detail);
    if (body.status === 400) body.errors = [{ field: '(body)', code: 'malformed_json', message: detail }];
    return { body, headers: {} };
  }
  const status = (exception as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own errors: malformed JSON, body too large, unsupported content type.
    const code = (exception as { code?: string }).code;
    const detail = code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? 'send the body as application/json' : (exception as Error).message;
    const body = problemFromStatus(status, detail);
    if (status === 400) body.errors = [{ field: '(body)', code: 'malformed_json', message: (exception as Error).message }];
    return { body, headers: {} };
  }
  logger.error({ error: (exception as Error)?.message, stack: (exception as Error)?.stack }, 'unhandled error');
  return { body: { type: `${typeBase}internal`, title: 'Internal error', status: 500, detail: 'an unexpected error occurred' }, headers: {} };
}
