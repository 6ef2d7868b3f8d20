/**
 * Launches Debian's Chromium through playwright-core (never a downloaded browser), with
 * the flags this sandbox needs and a fresh user-data dir per launch.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/** Throws a message that says how to install Chromium when it is missing. */
export function assertChromium(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}. Browser tests need Debian's chromium: run \`sudo apt-get update && sudo apt-get install -y chromium\`, or set CHROMIUM_PATH to a Chromium binary.`);
  }
}

/** A browser context on a fresh profile; `close()` removes the profile too. */
export interface FreshContext {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Starts headless Chromium with a fresh user-data dir.
 *
 * @example
 * const { context, close } = await launchChromium();
 * const page = await context.newPage();
 */
export async function launchChromium(options: { offline?: boolean; args?: readonly string[] } = {}): Promise<FreshContext> {
  assertChromium();
  const userDataDir = mkdtempSync(join(tmpdir(), 'edgeseg-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...FLAGS, ...(options.args ?? [])],
    offline: options.offline ?? false,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
