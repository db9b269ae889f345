import { ProblemException, problemTypeBase, validationProblem, type FieldProblem } from '@sms/platform';

export { ProblemException, ProblemFilter, toProblem, type ProblemBody } from '@sms/platform';

const typeBase = problemTypeBase;

export const problems = {
  validation: (errors: FieldProblem[]) => validationProblem(errors),
  unsupportedMediaType: () =>
    new ProblemException({
      type: `${typeBase}415`,
      title: 'Unsupported media type',
      status: 415,
      detail: 'send the body as application/json',
    }),
  unauthorized: (detail: string) =>
    new ProblemException({ type: `${typeBase}unauthorized`, title: 'Missing or invalid API key', status: 401, detail }, { 'www-authenticate': 'Bearer' }),
  forbidden: (detail: string) => new ProblemException({ type: `${typeBase}forbidden`, title: 'The API key lacks a scope', status: 403, detail }),
  notFound: (what: string) => new ProblemException({ type: `${typeBase}not-found`, title: 'Not found', status: 404, detail: `${what} not found` }),
  conflict: (detail: string) => new ProblemException({ type: `${typeBase}conflict`, title: 'Conflict', status: 409, detail }),
  tooManyRequests: (retryAfterSeconds: number) =>
    new ProblemException(
      {
        type: `${typeBase}rate-limited`,
        title: 'Too many requests',
        status: 429,
        detail: `this tenant's request rate is exceeded; retry in ${retryAfterSeconds} s`,
      },
      { 'retry-after': String(retryAfterSeconds) },
    ),
  idempotencyMismatch: () =>
    new ProblemException({
      type: `${typeBase}idempotency-key-reused`,
      title: 'Idempotency-Key reused with a different request',
      status: 422,
      detail: 'this Idempotency-Key was first used with a different request body; use a new key for a new request',
    }),
};
