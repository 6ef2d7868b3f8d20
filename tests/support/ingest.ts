/**
 * What the server received, read the way an operator would: the admin ingestion status
 * counts reports for the current (open) period without revealing any segment.
 */
import { isoWeekPeriod } from '@edgeseg/shared';
import { expect } from 'vitest';
import { mintToken } from './keys.ts';

/**
 * Number of randomized reports the server holds for this week.
 *
 * @example
 * expect(await reportsReceived(base, authJwk)).toBe(before + 1);
 */
export async function reportsReceived(base: string, authJwk: string): Promise<number> {
  const token = await mintToken(authJwk, { role: 'admin' });
  const res = await fetch(`${base}/v1/admin/periods/${isoWeekPeriod(Date.now())}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { reports: number }).reports;
}
