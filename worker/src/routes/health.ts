import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';

/** `GET /healthz`: liveness, touching no storage (the load-test baseline route). */
export const healthRoutes = new Hono<AppEnv>().get('/healthz', (c) => c.json({ ok: true }));
