import { ProblemException, problemTypeBase, validationProblem, type FieldProblem } from '@sms/platform';

export { ProblemException, ProblemFilter, toProblem, type ProblemBody } from '@sms/platform';

const typeBase = problemTypeBase;

export const problems = {
  validation: (errors: FieldProblem[]) => validationProblem(errors),
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
