/**
 * Chromium and a whole local stack (`npm start`) for one browser test file: started before its
 * tests, the browser first (a missing Chromium fails in seconds, before the stack's minutes),
 * and afterwards every context and the browser closed, the stack stopped and its data removed.
 */
import type { Browser, BrowserContext, BrowserContextOptions } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { launchChromium } from "./browser";
import { type LocalStack, removeDataDir, type StartOptions, startLocalStack } from "./local-stack";

export interface BrowserAndStack {
  /** Both, or an error naming the beforeAll failure instead of a null dereference. */
  ready(): { browser: Browser; stack: LocalStack };
  /** A browser context closed with the browser after the file's tests. */
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
}

/** @param stackOptions computed in beforeAll (a stand-in's port may be picked there). */
export function useBrowserAndStack(
  stackOptions: () => StartOptions | Promise<StartOptions> = () => ({}),
): BrowserAndStack {
  let browser: Browser | undefined;
  let stack: LocalStack | undefined;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    stack = await startLocalStack(await stackOptions());
  }, 240_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close().catch(() => {});
    if (stack) {
      await stack.kill();
      await removeDataDir(stack.dataDir);
    }
  }, 60_000);

  const ready = () => {
    if (!browser || !stack) throw new Error("browser or stack did not start (see the beforeAll error)");
    return { browser, stack };
  };
  return {
    ready,
    async newContext(options) {
      const context = await ready().browser.newContext(options);
      contexts.push(context);
      return context;
    },
  };
}
