/**
 * The release chunk (`release.min.js`): everything that decides what leaves the device
 * and sends it (release scheduling, the outbox sender, randomized response). The core
 * loads it with `import()` only once the viewer has granted measurement or
 * model_improvement, so the default (personalization only: nothing leaves the device)
 * never downloads it.
 */
export { createReleaseScheduler, type ReleaseContext, type ReleaseScheduler } from '../release-scheduler.ts';
export { createSender, type Sender, type SenderOptions } from '../sender.ts';
