/**
 * Campaigns on the device, in real Chromium against the real stack: the signed model
 * carries the rules, the device picks the ones of its own segment and time window, and
 * impressions leave only as one randomized weekly report per device, the same in number,
 * timing and fields whether or not anything was shown.
 */
import { IMPRESSION_FIELDS, isoWeekPeriod, parseManifest, type Campaign, type ModelManifest } from '@edgeseg/shared';
import { CompactSign, importJWK, type JWK } from 'jose';
import type { Page } from 'playwright-core';
import { describe, expect, inject, it } from 'vitest';
import { launchChromium } from '../support/chromium.ts';
import { finishTitles, flush, openDemo, type DemoWindow } from './demo-page.ts';

const base = inject('baseUrl');
const WEEK_MS = 7 * 86_400_000;

async function signModel(manifest: ModelManifest): Promise<string> {
  const jwk = JSON.parse(inject('modelJwk')) as JWK;
  const key = await importJWK(jwk, 'ES256');
  return new CompactSign(new TextEncoder().encode(JSON.stringify(manifest))).setProtectedHeader({ alg: 'ES256', kid: jwk.kid as string, typ: 'edgeseg-model+json' }).sign(key);
}

async function stackModel(): Promise<ModelManifest> {
  const jws = await (await fetch(`${base}/v1/model`)).text();
  const parsed = parseManifest(JSON.parse(Buffer.from(jws.split('.')[1] as string, 'base64url').toString()));
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.value;
}

const campaignIds = (page: Page) => page.evaluate(() => (window as unknown as DemoWindow).edgeseg.campaigns().map((c) => c.id));

describe('campaigns on the device', () => {
  it('shows only its own segment’s campaigns in their window, and reports impressions once a week, randomized, whatever it saw', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => m.text().startsWith('[edgeseg]') && errors.push(m.text()));
      const t0 = Date.now();
      await page.clock.install({ time: t0 });
      const impressions: string[] = [];
      await page.route('**/v1/impressions', async (route) => {
        impressions.push(route.request().postData() as string);
        await route.fulfill({ status: 202, json: { accepted: 1 } });
      });
      // The stack never published the locally signed v+1 below, so it would refuse its segment reports: accept them here.
      await page.route('**/v1/reports', (route) => route.fulfill({ status: 202, json: { accepted: 1 } }));

      // Learn this device's segment under the stack's model, then serve v+1 with campaigns for it and for another segment.
      await openDemo(page, base);
      await finishTitles(page, ['sb-001', 'sb-005']);
      await flush(page);
      const mine = (await page.evaluate(() => (window as unknown as DemoWindow).edgeseg.segment()))?.id as number;
      const v1 = await stackModel();
      const other = (mine + 1) % v1.k;
      const startsAt = Math.floor(t0 / 1000) + 3600;
      const campaigns: Campaign[] = [
        { id: 'for-me', segment: mine, kind: 'message', title: 'Hello, you' },
        { id: 'for-others', segment: other, kind: 'content_row', title: 'Not you', items: ['sb-002'] },
        { id: 'for-me-later', segment: mine, kind: 'message', title: 'In an hour', starts_at: startsAt },
      ];
      const v2Jws = await signModel({ ...v1, version: v1.version + 1, campaigns });
      await page.route('**/v1/model', (route) => route.fulfill({ status: 200, contentType: 'application/jose', body: v2Jws, headers: { etag: '"campaigns-v2"' } }));
      await openDemo(page, base);
      expect(await campaignIds(page)).toEqual(['for-me']);

      // A window opens without any new event: subscribers hear of it.
      await page.evaluate(() => {
        const w = window as unknown as DemoWindow & { announced: string[][] };
        w.announced = [];
        w.edgeseg.onCampaignsChange((list) => w.announced.push(list.map((c) => c.id)));
      });
      await page.clock.fastForward(3601_000);
      expect(await page.evaluate(() => (window as unknown as { announced: string[][] }).announced)).toEqual([['for-me', 'for-me-later']]);
      expect(await campaignIds(page)).toEqual(['for-me', 'for-me-later']);

      // Only with measurement: last week's report (nothing was shown) leaves at once.
      await page.evaluate(() => (window as unknown as DemoWindow).edgeseg.campaignShown('for-me'));
      await page.evaluate(() => (window as unknown as DemoWindow).edgeseg.campaignShown('no-such-campaign'));
      await flush(page);
      expect(impressions).toHaveLength(0);
      await page.evaluate(() => (window as unknown as DemoWindow).edgeseg.consent.set({ measurement: true }));
      await flush(page);
      const now = t0 + 3601_000;
      expect(impressions).toHaveLength(1);

      // A week later, this week's report (it was shown 'for-me') leaves: the same shape.
      await page.clock.setSystemTime(now + WEEK_MS);
      await openDemo(page, base);
      await flush(page);
      expect(impressions).toHaveLength(2);

      const sent = impressions.map((raw) => JSON.parse(raw) as { reports: Record<string, unknown>[] });
      expect(sent.map((b) => b.reports[0]?.period)).toEqual([isoWeekPeriod(now - WEEK_MS), isoWeekPeriod(now)]);
      for (const body of sent) {
        expect(Object.keys(body)).toEqual(['reports']);
        expect(body.reports).toHaveLength(1);
        const report = body.reports[0] as Record<string, unknown>;
        expect(Object.keys(report).sort()).toEqual([...IMPRESSION_FIELDS].sort());
        expect(report.model_version).toBe(v1.version + 1);
        expect(Number.isInteger(report.value) && (report.value as number) >= 0 && (report.value as number) <= campaigns.length).toBe(true);
      }
      for (const raw of impressions) for (const leak of ['for-me', 'for-others', 'Hello', 'segment']) expect(raw).not.toContain(leak);

      const exported = await page.evaluate(() => (window as unknown as DemoWindow).edgeseg.exportData());
      expect(exported?.campaignsShown?.[isoWeekPeriod(now)]).toEqual(['for-me']);
      const releases = exported?.privacyLedger.entries.map((e) => e.release) ?? [];
      expect(releases.filter((r) => r.startsWith('impressions '))).toEqual([`impressions ${isoWeekPeriod(now - WEEK_MS)}`, `impressions ${isoWeekPeriod(now)}`]);
      expect(exported?.lastSent.measurement?.url).toMatch(/\/v1\/(impressions|reports)$/);
      expect(errors.filter((e) => !/no-such-campaign/.test(e))).toEqual([]);
      expect(errors.some((e) => /no-such-campaign is not a campaign of the active model/.test(e))).toBe(true);
    } finally {
      await browser.close();
    }
  });
});
