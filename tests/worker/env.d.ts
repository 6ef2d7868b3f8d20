// Types the `cloudflare:workers` / `cloudflare:test` imports of these tests with the
// real Worker's bindings and entry module.
import type { Env as WorkerEnv } from '../../worker/src/env.ts';

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {}
    interface GlobalProps {
      mainModule: typeof import('../../worker/src/index.ts');
    }
  }
}
