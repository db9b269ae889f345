import { ProblemException, problemTypeBase, validationProblem, type FieldProblem } from '@sms/platform';

export { ProblemException, ProblemFilter, toProblem, type ProblemBody } from '@sms/platform';

const typeBase = problemTypeBase;

export const problems = {
  validation: (errors: FieldProblem[]) => validationProblem(errors),
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
