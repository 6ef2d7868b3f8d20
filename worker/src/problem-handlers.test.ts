import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { describe, expect, it, vi } from 'vitest';
import { problemForStatus, withProblemHandlers } from './problem-handlers.ts';
import { ProblemError } from './problem.ts';

function appThrowing(err: Error): Hono {
  return withProblemHandlers(new Hono().get('/x', () => {
    throw err;
  }));
}

async function problemOf(res: Response): Promise<{ type: string; status: number; detail?: string }> {
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  return (await res.json()) as { type: string; status: number; detail?: string };
}

describe('problem handlers', () => {
  it('answers a framework 4xx with its own problem type and status, not a 500', async () => {
    const res = await appThrowing(new HTTPException(413, { message: 'too big for the limit' })).request('/x');
    expect(res.status).toBe(413);
    expect(await problemOf(res)).toMatchObject({ type: 'https://edgeseg.dev/problems/body-too-large', detail: 'too big for the limit' });
    expect(problemForStatus(405)).toBe('method-not-allowed');
    expect(problemForStatus(418)).toBe('bad-request');
  });

  it('never echoes the message of a server error', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    for (const err of [new HTTPException(502, { message: 'upstream secret-host:9000 refused' }), new Error('secret-host:9000 refused')]) {
      const res = await appThrowing(err).request('/x');
      expect(res.status).toBe(500);
      const body = await problemOf(res);
      expect(body.type).toBe('https://edgeseg.dev/problems/internal');
      expect(JSON.stringify(body)).not.toContain('secret-host');
    }
    expect(log).toHaveBeenCalledTimes(2);
    log.mockRestore();
  });

  it('answers our own problems as they are, and unknown routes as not-found', async () => {
    const app = appThrowing(new ProblemError('period-open', 'not over yet'));
    expect(await problemOf(await app.request('/x'))).toMatchObject({ status: 409, detail: 'not over yet' });
    expect((await app.request('/nowhere')).status).toBe(404);
  });
});
