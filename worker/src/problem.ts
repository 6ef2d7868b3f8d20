/**
 * RFC 9457 problem details. Every error the API returns is one of these, with a stable
 * `type` that clients can switch on.
 */
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

const PROBLEM_BASE = 'https://edgeseg.dev/problems/';

/** The stable problem types of the API and their HTTP status and title. */
export const PROBLEMS = {
  'invalid-json': { status: 400, title: 'Body is not valid JSON' },
  'bad-request': { status: 400, title: 'The request is malformed' },
  'invalid-body': { status: 422, title: 'Body does not match the schema' },
  'unknown-segment': { status: 422, title: 'Report names a segment the model does not have' },
  'unknown-model': { status: 422, title: 'Report names a model version that was never published' },
  'stale-period': { status: 422, title: 'Report is for a period that no longer accepts reports' },
  'body-too-large': { status: 413, title: 'Body is larger than this route accepts' },
  'unsupported-media-type': { status: 415, title: 'Body must be application/json' },
  replayed: { status: 409, title: 'Every item in this request was already accepted' },
  'campaign-exists': { status: 409, title: 'A campaign with this id already exists' },
  undecryptable: { status: 400, title: 'A ciphertext could not be opened with this aggregator’s key' },
  'round-not-open': { status: 409, title: 'The round is not accepting contributions' },
  'round-refused': { status: 422, title: 'The helper does not serve this round: it is outside the helper’s policy' },
  'round-conflict': { status: 409, title: 'A round with this id was accepted with another configuration' },
  'release-refused': { status: 409, title: 'The helper does not release this aggregate' },
  'helper-unavailable': { status: 503, title: 'The helper aggregator could not be reached' },
  'no-open-round': { status: 404, title: 'No round is open' },
  'period-open': { status: 409, title: 'The period still takes reports; it is released after it closes' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  unauthorized: { status: 401, title: 'A valid bearer token is required' },
  forbidden: { status: 403, title: 'The token does not grant this role' },
  'not-found': { status: 404, title: 'No such resource' },
  'method-not-allowed': { status: 405, title: 'Method not allowed on this route' },
  misconfigured: { status: 500, title: 'Server is not configured' },
  internal: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: ContentfulStatusCode; title: string }>;

export type ProblemType = keyof typeof PROBLEMS;

/** Body of an `application/problem+json` answer. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: string[];
}

/**
 * Builds a problem+json Response.
 *
 * @example
 * return problemResponse('invalid-body', { detail: 'reports[0].value: must be a segment index' });
 */
export function problemResponse(type: ProblemType, extra: { detail?: string; errors?: string[]; headers?: Record<string, string>; members?: Record<string, unknown> } = {}): Response {
  const { status, title } = PROBLEMS[type];
  // Extension members (RFC 9457 §3.2) first, so the standard members win over one of the same name.
  const body: ProblemBody & Record<string, unknown> = { ...extra.members, type: PROBLEM_BASE + type, title, status };
  if (extra.detail) body.detail = extra.detail;
  if (extra.errors) body.errors = extra.errors.slice(0, 20);
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/problem+json', ...extra.headers } });
}

/**
 * An exception that Hono's error handler turns into a problem+json answer; lets helpers
 * deep in a route stop the request without threading Responses back up.
 *
 * @example
 * throw new ProblemError('unauthorized', 'missing bearer token');
 */
export class ProblemError extends HTTPException {
  constructor(
    readonly problem: ProblemType,
    detail?: string,
    readonly errors?: string[],
  ) {
    super(PROBLEMS[problem].status, { message: detail ?? PROBLEMS[problem].title });
  }

  override getResponse(): Response {
    return problemResponse(this.problem, { detail: this.message, ...(this.errors ? { errors: this.errors } : {}) });
  }
}

/**
 * A ProblemError whose body also carries extension members (RFC 9457 §3.2), such as the
 * per-item `results` of a batch nothing of which was stored. The standard members win
 * over an extension member of the same name.
 *
 * @example
 * throw new ProblemWithMembers('stale-period', 'reports[0].period: …', undefined, { results });
 */
export class ProblemWithMembers extends ProblemError {
  constructor(
    problem: ProblemType,
    detail: string | undefined,
    errors: string[] | undefined,
    readonly members: Record<string, unknown>,
  ) {
    super(problem, detail, errors);
  }

  override getResponse(): Response {
    return problemResponse(this.problem, { detail: this.message, ...(this.errors ? { errors: this.errors } : {}), members: this.members });
  }
}
