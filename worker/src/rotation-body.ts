/**
 * The optional JSON body of a key rotation route (leader and helper alike): none at
 * all, or a small object with only known keys.
 */
import { isObject, unknownKeys } from '@edgeseg/shared';
import { readJsonBody } from './body.ts';
import { ProblemError } from './problem.ts';

const ROTATE_MAX_BYTES = 1024;

/**
 * Reads a rotation's body: none at all, or an object with only `allowed` keys. Checked
 * before anything rotates, so a refused request changes nothing.
 *
 * @example
 * const { republish = false } = await rotationBody(c.req.raw, ['republish']);
 */
export async function rotationBody(request: Request, allowed: readonly string[]): Promise<Record<string, unknown>> {
  if (request.body === null || request.headers.get('content-length') === '0') return {};
  const body = await readJsonBody(request, ROTATE_MAX_BYTES);
  if (!isObject(body)) throw new ProblemError('invalid-body', 'body: must be a JSON object (or no body)');
  const unknown = unknownKeys(body, [...allowed]).map((k) => `${k}: unknown field`);
  if (unknown.length) throw new ProblemError('invalid-body', unknown[0], unknown);
  return body;
}
