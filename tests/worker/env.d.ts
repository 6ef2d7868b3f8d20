// Types the `cloudflare:workers` / `cloudflare:test` imports of these tests with the
// real Worker's bindings and entry module, plus the helper's Durable Objects (entry.ts).
import type { Env as WorkerEnv } from '../../worker/src/env.ts';
import type { HelperEnv } from '../../worker/src/helper/env.ts';

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv, Pick<HelperEnv, 'HELPER_COORDINATOR' | 'HELPER_SHARD'> {}
    interface GlobalProps {
      mainModule: typeof import('./entry.ts');
    }
  }
}
