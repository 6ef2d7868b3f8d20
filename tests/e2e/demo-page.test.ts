/**
 * /demo in Chromium, on its own stack so the model is the bootstrap one (rounds other
 * test files release on the shared stack move the centroids): play / finish / skip move the on-device
 * segment, whose reasons are worded on the device from the signed model; arrow keys
 * reach every control; the dataset credit and the preference-centre link are there;
 * axe-core finds nothing; a screenshot is written.
 */
import { describeCentroid, parseManifest, type ModelManifest } from '@edgeseg/shared';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type FreshContext } from '../support/chromium.ts';
import { startStack, type RunningStack } from '../support/stack.ts';
import { axeViolations } from './axe.ts';
import { CATALOGUE, openDemo, weekdayAfternoon, type DemoWindow } from './demo-page.ts';

let stack: RunningStack;
let base: string;
const SCREENSHOT = new URL('../screenshots/demo.png', import.meta.url).pathname;
const POLL = { timeout: 15_000, interval: 200 };

let browser: FreshContext;
let page: Page;

async function currentManifest(): Promise<ModelManifest> {
  const jws = await (await fetch(`${base}/v1/model`)).text();
  const parsed = parseManifest(JSON.parse(Buffer.from(jws.split('.')[1] as string, 'base64url').toString()));
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.value;
}

/** What the page shows: the segment line, its id and the "why" traits. */
async function shown(p: Page): Promise<{ label: string | null; id: string | undefined; traits: string[] }> {
  return p.evaluate(() => ({
    label: document.querySelector('#segment strong')?.textContent ?? null,
    id: (document.getElementById('segment') as HTMLElement).dataset.segment,
    traits: [...document.querySelectorAll('#why-traits li')].map((li) => li.textContent ?? ''),
  }));
}

async function press(p: Page, action: 'play' | 'finish' | 'skip', ids: string[]): Promise<void> {
  for (const id of ids) await p.click(`button[data-action="${action}"][data-content="${id}"]`);
}

const idsOf = (row: string, n: number) => CATALOGUE.titles.filter((t) => t.row === row).slice(0, n).map((t) => t.id);

beforeAll(async () => {
  stack = await startStack();
  base = stack.baseUrl;
  browser = await launchChromium();
  page = await browser.context.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('/demo', () => {
  it('play, finish and skip change the on-device segment, with reasons worded on the device from the signed model', async () => {
    await page.clock.setFixedTime(weekdayAfternoon());
    await openDemo(page, base);
    expect((await shown(page)).label).toBeNull();
    expect(await page.isVisible('#why')).toBe(false);
    const manifest = await currentManifest();

    await page.selectOption('#device', 'tv');
    await press(page, 'finish', idsOf('drama', 4));
    await expect.poll(async () => (await shown(page)).traits.length, POLL).toBeGreaterThan(0);
    const first = await shown(page);
    const firstId = Number(first.id);
    expect(first.label).toBe(manifest.labels[firstId]);
    expect(first.traits).toEqual(describeCentroid(manifest.centroids[firstId] as number[], manifest.scaling, manifest.features).traits);

    await page.selectOption('#device', 'mobile');
    await press(page, 'play', idsOf('comedy', 1));
    expect(await page.textContent('#now-playing')).toBe(`Playing: ${CATALOGUE.titles.find((t) => t.id === idsOf('comedy', 1)[0])?.title} on phone`);
    await press(page, 'skip', idsOf('comedy', 8));
    await expect.poll(async () => (await shown(page)).id, POLL).not.toBe(first.id);
    const second = await shown(page);
    const secondId = Number(second.id);
    expect(second.label).toBe(manifest.labels[secondId]);
    expect(second.label).not.toBe(first.label);
    expect(second.traits).toEqual(describeCentroid(manifest.centroids[secondId] as number[], manifest.scaling, manifest.features).traits);
    expect(second.traits).not.toEqual(first.traits);
  });

  it('sends real PlaybackEvents: play then finish of one title is one play and one complete, on the chosen device', async () => {
    const [id] = idsOf('documentary', 1) as [string];
    await page.selectOption('#device', 'tablet');
    await press(page, 'play', [id]);
    await press(page, 'finish', [id]);
    const events = await page.evaluate(async (cid) => (await (window as unknown as DemoWindow).edgeseg.exportData())?.events.filter((e) => e.contentId === cid), id);
    const title = CATALOGUE.titles.find((t) => t.id === id);
    expect(events?.map((e) => [e.type, e.positionSec, e.durationSec, e.device, e.genres])).toEqual([
      ['play', 0, (title?.minutes ?? 0) * 60, 'tablet', title?.genres],
      ['complete', (title?.minutes ?? 0) * 60, (title?.minutes ?? 0) * 60, 'tablet', title?.genres],
    ]);
  });

  it('arrow keys move between a row’s controls and between rows; Enter activates', async () => {
    const [drama] = idsOf('drama', 1) as [string];
    const [comedy] = idsOf('comedy', 1) as [string];
    await page.focus(`button[data-action="play"][data-content="${drama}"]`);
    const focused = () => page.evaluate(() => [(document.activeElement as HTMLElement).dataset.action, (document.activeElement as HTMLElement).dataset.content]);
    await page.keyboard.press('ArrowRight');
    expect(await focused()).toEqual(['finish', drama]);
    await page.keyboard.press('ArrowDown');
    expect(await focused()).toEqual(['finish', comedy]);
    await page.keyboard.press('ArrowLeft');
    expect(await focused()).toEqual(['play', comedy]);
    await page.keyboard.press('ArrowUp');
    expect(await focused()).toEqual(['play', drama]);
    await page.keyboard.press('Enter');
    expect(await page.textContent('#now-playing')).toMatch(new RegExp(`^Playing: ${CATALOGUE.titles[0]?.title}`));
  });

  it('credits the dataset, links the preference centre, and bundles its catalogue', async () => {
    expect(await page.textContent('#credit')).toBe(CATALOGUE.credit);
    expect(CATALOGUE.credit).toMatch(/MovieLens.*GroupLens/);
    expect(await page.getAttribute('#why a[href="/preferences"], label.toggle a[href="/preferences"]', 'href')).toBe('/preferences');
    expect(await page.$$eval('#catalogue .tile', (t) => t.length)).toBe(CATALOGUE.titles.length);
    expect(CATALOGUE.titles.length).toBeGreaterThanOrEqual(60);
  });

  it('has no axe-core WCAG 2.1 A/AA violations with a segment and its reasons open, and writes a screenshot', async () => {
    await page.click('#why summary');
    expect(await page.isVisible('#why-traits li')).toBe(true);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: SCREENSHOT });
  });
});
