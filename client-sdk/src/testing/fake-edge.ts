/**
 * Test fixture (not part of any bundle): a fake edgeseg endpoint for the SDK's Node unit
 * tests, named as the fake it is. It serves a model signed with a real ES256 key (jose)
 * and its JWKS, the open rounds a test sets, records every request, and answers device
 * POSTs with 202; plus an in-memory hub that plays the cross-tab channel between
 * segmenters in one process.
 */
import { modelEtag, type ModelManifest, type RoundKind } from '@edgeseg/shared';
import { CompactSign, exportJWK, generateKeyPair } from 'jose';
import type { SegmenterDeps } from '../segmenter.ts';
import { openStore } from '../store.ts';
import type { TabChannel, TabMessage } from '../tab-channel.ts';
import { testModel } from '../contribute/test-model.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface FakeEdge {
  endpoint: string;
  requests: RecordedRequest[];
  /** The JWS served at /v1/model now. */
  jws: string;
  /** Signs and serves `manifest` from now on. */
  publish(manifest: ModelManifest): Promise<void>;
  /** What the fake answers to the ETag header (a server could pick anything). */
  etagHeader: string | null;
  /**
   * The open round of each kind, served as is at `GET /v1/rounds/current` (404 when
   * none); counts rounds of lifecycle stages and impressions under `counts:<measure>`
   * (`?kind=counts&measure=<measure>`).
   */
  rounds: Partial<Record<RoundKind | 'counts:lifecycle' | 'counts:impressions', unknown>>;
  fetch: SegmenterDeps['fetch'];
}

/**
 * Starts a fake edge serving model v1 (two segments, measurement by GRR).
 *
 * @example
 * const edge = await fakeEdge();
 * const seg = startSegmenter({ endpoint: edge.endpoint }, testDeps(edge));
 */
export async function fakeEdge(manifest: ModelManifest = { ...testModel(2, 1, undefined), epsilon: { report: 1, lifecycle: 1 } }): Promise<FakeEdge> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test', alg: 'ES256' };
  const edge: FakeEdge = {
    endpoint: 'https://edge.test',
    requests: [],
    jws: '',
    etagHeader: null,
    rounds: {},
    async publish(m) {
      edge.jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(m))).setProtectedHeader({ alg: 'ES256', kid: 'test', typ: 'edgeseg-model+json' }).sign(privateKey);
      edge.etagHeader = await modelEtag(m.version, edge.jws);
    },
    async fetch(input, init = {}) {
      const url = new URL(input);
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((v, k) => (headers[k] = v));
      const body = typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : null;
      edge.requests.push({ method: init.method || 'GET', path: url.pathname + url.search, headers, body });
      if (url.pathname === '/v1/model') {
        const etag = edge.etagHeader || '';
        if (headers['if-none-match'] === etag) return new Response(null, { status: 304, headers: { etag } });
        return new Response(edge.jws, { status: 200, headers: { etag, 'content-type': 'application/jose' } });
      }
      if (url.pathname === '/.well-known/jwks.json') return Response.json({ keys: [jwk] });
      if (url.pathname === '/v1/rounds/current') {
        const measure = url.searchParams.get('measure');
        const open = url.searchParams.get('kind') !== 'counts' ? edge.rounds.kmeans : measure === 'lifecycle' || measure === 'impressions' ? edge.rounds[`counts:${measure}`] : measure === null ? edge.rounds.counts : undefined;
        return open ? Response.json(open) : new Response(null, { status: 404 });
      }
      if (init.method === 'POST' && url.pathname === '/v1/contributions') return Response.json({ accepted: 1 }, { status: 202 }); // one contribution, answered as a whole
      if (init.method === 'POST') {
        const items = (body as { reports?: { id: string }[] }).reports || [];
        return Response.json({ accepted: items.length || 1, duplicates: 0, refused: 0, results: items.map((r) => ({ id: r.id, status: 'accepted' })) }, { status: 202 });
      }
      return new Response(null, { status: 404 });
    },
  };
  await edge.publish(manifest);
  return edge;
}

/**
 * An in-memory cross-tab hub: every channel opened on it hears the others' messages
 * (asynchronously, as BroadcastChannel delivers them), never its own.
 *
 * @example
 * const hub = tabHub();
 * const a = startSegmenter(opts, { ...deps, openChannel: hub.open });
 */
export function tabHub(): { open: SegmenterDeps['openChannel'] } {
  const channels = new Set<{ name: string; on: (m: TabMessage) => void }>();
  return {
    open(name, on): TabChannel {
      const self = { name, on };
      channels.add(self);
      return {
        post(m) {
          for (const c of channels) if (c !== self && c.name === name) setTimeout(() => c.on(structuredClone(m)), 0);
        },
        close: () => channels.delete(self),
      };
    },
  };
}

/**
 * Deps for a segmenter in Node: fake-indexeddb (the caller imports 'fake-indexeddb/auto'),
 * the fake edge's fetch, the real clock unless given, no cross-tab channel unless given.
 *
 * @example
 * const seg = startSegmenter({ endpoint: edge.endpoint, appId: 't1' }, testDeps(edge));
 */
export function testDeps(edge: FakeEdge, overrides: Partial<SegmenterDeps> = {}): SegmenterDeps {
  return { openStore, fetch: edge.fetch, now: Date.now, openChannel: () => null, insecure: () => null, ...overrides };
}
