/**
 * Delivery of queued payloads. An item leaves the outbox only once the server has it
 * (202, or 409 when every id was already accepted); network errors and 5xx keep it for
 * the next attempt, so nothing is lost offline or across reloads.
 */
import type { OutboxItem } from './store.ts';

/** What happened to a batch: delivered (drop from outbox), rejected (drop, report) or retry. */
export type DeliveryOutcome = 'delivered' | 'rejected' | 'retry';

/**
 * Sends outbox items as one `POST /v1/reports` batch.
 *
 * @example
 * const outcome = await sendReports('https://edge.example', items);
 */
export async function sendReports(endpoint: string, items: readonly OutboxItem[], keepalive = false): Promise<DeliveryOutcome> {
  try {
    const res = await fetch(`${endpoint}/v1/reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reports: items.map((i) => i.report) }),
      credentials: 'omit',
      keepalive,
    });
    if (res.status === 202 || res.status === 409) return 'delivered';
    return res.status >= 500 || res.status === 429 ? 'retry' : 'rejected';
  } catch {
    return 'retry';
  }
}
