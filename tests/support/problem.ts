/**
 * The one assertion on a problem+json answer (RFC 9457), for the e2e tests and the
 * Worker-pool tests alike: it imports nothing from Node, so it also runs in workerd.
 */
import { expect } from 'vitest';

/** Where every problem type of the API lives; a slug completes it. */
export const PROBLEM_TYPE_BASE = 'https://edgeseg.dev/problems/';

/** A problem+json body: the standard members, and the extensions the API uses. */
export interface ProblemAnswer {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: string[];
  /** The helper's extension member naming the rule that refused a request. */
  rule?: string;
}

/**
 * Asserts that `res` is an `application/problem+json` answer of `status` whose type is
 * the problem `slug`, with that status and a title in its body; returns the body.
 * `what` names the case in a failure message (and the answer's text is shown with it).
 *
 * @example
 * await expectProblem(await fetch(`${baseUrl}/v1/rounds/current`), 404, 'no-open-round');
 * const { rule } = await expectProblem(res, 409, 'release-refused', 'forged selector');
 */
export async function expectProblem(res: Response, status: number, slug: string, what = ''): Promise<ProblemAnswer> {
  const text = await res.text();
  const context = `${what ? `${what}: ` : ''}${text}`;
  expect(res.status, context).toBe(status);
  expect(res.headers.get('content-type'), context).toBe('application/problem+json');
  const body = JSON.parse(text) as ProblemAnswer;
  expect(body.type, context).toBe(PROBLEM_TYPE_BASE + slug);
  expect(body.status, context).toBe(status);
  expect(typeof body.title === 'string' && body.title.length > 0, `${context}: a title`).toBe(true);
  return body;
}
