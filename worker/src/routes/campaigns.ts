/**
 * Marketer campaign routes. A campaign lives only inside the signed model: creating or
 * deleting one publishes the next model version (same centroids, labels and scaling),
 * which devices pick up at their next model fetch and apply on their own. No route here
 * learns or stores which device matched a campaign.
 */
import { campaignListErrors, estimateImpressions, impressionEpsilon, isImpressionReleasable, isPeriod, MAX_CAMPAIGNS, parseCampaign, parseManifest, periodStart, REPORT_GRACE_MS, type Campaign, type ImpressionPart, type ImpressionTally, type ModelManifest } from '@edgeseg/shared';
import { Hono } from 'hono';
import { requireRole } from '../auth.ts';
import { readJsonBody } from '../body.ts';
import type { AppEnv, Env } from '../env.ts';
import { coordinator } from '../coordinator.ts';
import { countsSummary } from '../counts-release.ts';
import { currentModel, manifestOf, publishModel } from '../models.ts';
import { ProblemError } from '../problem.ts';
import { recordTallyReleases } from '../record-tally-release.ts';
import { impressionsEntry } from '../tally-ledger.ts';
import { countsRoundId } from '../round-plan.ts';
import { impressionTallyStub } from './impressions.ts';

/** A campaign is at most ~1.7 KB of JSON (20 item ids of 64 chars, 280-char body); 8 KB leaves room for escapes. */
export const CAMPAIGN_MAX_BYTES = 8 * 1024;
const WEEK_MS = 7 * 86_400_000;
/** Concurrent publishers (another campaign edit, a round close, a key rotation) are retried this often. */
const PUBLISH_ATTEMPTS = 4;

async function currentManifest(env: Env): Promise<ModelManifest> {
  const model = await currentModel(env);
  const parsed = parseManifest(JSON.parse(model.manifest));
  if (!parsed.ok) throw new ProblemError('internal', `current model v${model.version} does not parse`);
  return parsed.value;
}

/**
 * Publishes the next model with `change(current)` as its campaign list. `change` may
 * throw a ProblemError (duplicate, unknown id), in which case nothing is published.
 * Versions only go up in the registry, so if another publisher took this version first,
 * the change is re-applied on top of its model rather than overwriting it.
 */
async function republish(env: Env, change: (current: ModelManifest) => Campaign[]): Promise<ModelManifest> {
  for (let attempt = 0; attempt < PUBLISH_ATTEMPTS; attempt++) {
    const current = await currentManifest(env);
    const campaigns = change(current);
    const errors = campaignListErrors(campaigns, current.k);
    if (errors.length) throw new ProblemError('invalid-body', errors[0], errors);
    const nowS = Math.floor(Date.now() / 1000);
    const next: ModelManifest = { ...current, version: current.version + 1, campaigns, issued_at: nowS, not_before: nowS - 60 };
    const published = await publishModel(env, next);
    if (published.manifest === JSON.stringify(next)) return next;
  }
  throw new ProblemError('internal', 'the model kept changing while publishing; try again');
}

/** What was measured of `period`'s impressions, per model version: GRR tallies, and secure counts rounds' parts. */
interface PeriodImpressions {
  grr: (ImpressionTally & { version: number })[];
  secure: ImpressionPart[];
  /** Secure rounds of the period that exist but have not released yet (closing after the week). */
  pending: string[];
}

/**
 * The impressions of every model version that could have measured `period`: a model
 * that counts securely from its impressions counts round (countsRoundId(…, 'impressions'),
 * noisy counts and the noise's variance; a negative noisy count enters as 0), any other
 * from its GRR tally, which releasing freezes (it refuses reports from then on), so the
 * counts read next, and every estimate computed from them, never change again.
 */
async function impressionsOf(env: Env, period: string): Promise<PeriodImpressions> {
  const registry = env.MODEL_REGISTRY.get(env.MODEL_REGISTRY.idFromName('global'));
  const versions = await registry.versionsWithCampaigns(periodStart(period) + 2 * WEEK_MS + REPORT_GRACE_MS);
  const out: PeriodImpressions = { grr: [], secure: [], pending: [] };
  for (const version of versions) {
    const manifest = await manifestOf(env, version);
    if (!manifest?.campaigns?.length) continue;
    const campaignIds = manifest.campaigns.map((c) => c.id);
    if (manifest.measurement === 'secure') {
      const roundId = countsRoundId(period, version, 'impressions');
      const summary = await countsSummary(env, roundId);
      if (summary) out.secure.push({ campaignIds, estimate: summary.segments.map((line) => line.count ?? 0), variance: summary.segments.map(() => (summary.noise_sd ?? 0) ** 2) });
      else {
        const round = await coordinator(env).get(roundId);
        if (round && round.state !== 'abandoned') out.pending.push(roundId);
      }
      continue;
    }
    const tally = impressionTallyStub(env, version, period);
    const values = campaignIds.length + 1;
    const epsilon = impressionEpsilon(manifest);
    await tally.release({ k: values, epsilon, kThreshold: 0, labels: [...campaignIds, 'none'] });
    out.grr.push({ version, campaignIds, counts: await tally.counts(values), epsilon });
  }
  return out;
}

/**
 * `GET /v1/campaigns` → `{ model_version, campaigns }`; `POST /v1/campaigns` (a Campaign)
 * → 201 and the next signed model; `DELETE /v1/campaigns/:id` → 200 and the next signed
 * model; `GET /v1/campaigns/impressions?period=` → estimated devices reached per campaign
 * in a closed period. Role `marketer` or `admin`.
 */
export const campaignRoutes: Hono<AppEnv> = new Hono<AppEnv>()
  .use('/v1/campaigns', requireRole('marketer', 'admin'))
  .use('/v1/campaigns/*', requireRole('marketer', 'admin'))
  .get('/v1/campaigns', async (c) => {
    const manifest = await currentManifest(c.env);
    c.header('cache-control', 'private, no-store');
    return c.json({ model_version: manifest.version, campaigns: manifest.campaigns ?? [] });
  })
  .post('/v1/campaigns', async (c) => {
    const body = await readJsonBody(c.req.raw, CAMPAIGN_MAX_BYTES);
    const published = await republish(c.env, (current) => {
      const parsed = parseCampaign(body, current.k);
      if (!parsed.ok) throw new ProblemError('invalid-body', parsed.errors[0], parsed.errors);
      const campaigns = current.campaigns ?? [];
      if (campaigns.some((x) => x.id === parsed.value.id)) throw new ProblemError('campaign-exists', `campaign ${parsed.value.id} already exists; delete it first`);
      if (campaigns.length >= MAX_CAMPAIGNS) throw new ProblemError('invalid-body', `a model carries at most ${MAX_CAMPAIGNS} campaigns`);
      return [...campaigns, parsed.value];
    });
    return c.json({ model_version: published.version, campaigns: published.campaigns ?? [] }, 201);
  })
  .get('/v1/campaigns/impressions', async (c) => {
    const period = c.req.query('period');
    if (!isPeriod(period)) throw new ProblemError('invalid-body', 'period: must be an ISO week such as 2026-W48');
    if (!isImpressionReleasable(period, Date.now())) {
      throw new ProblemError('period-open', `${period} impressions are reported during the week after it and released from ${new Date(periodStart(period) + 2 * WEEK_MS + REPORT_GRACE_MS).toISOString()}`);
    }
    const kThreshold = Number(c.env.K_THRESHOLD ?? '50');
    const measured = await impressionsOf(c.env, period);
    if (measured.pending.length) throw new ProblemError('period-open', `${period} impressions are counted by secure rounds that are closing (${measured.pending.join(', ')}); try again shortly`);
    const campaigns = estimateImpressions([...measured.grr, ...measured.secure], kThreshold);
    // The tally ledger lists GRR releases; secure rounds are in the ledger's `releases`.
    const spent = measured.grr.map((t) => ({ version: t.version, epsilon: t.epsilon, reports: t.counts.reduce((a, b) => a + b, 0) }));
    await recordTallyReleases(c.env, [impressionsEntry(period, spent, estimateImpressions(measured.grr, kThreshold), kThreshold, Math.floor(Date.now() / 1000))]);
    c.header('cache-control', 'private, no-store');
    return c.json({ period, campaigns });
  })
  .delete('/v1/campaigns/:id', async (c) => {
    const id = c.req.param('id');
    const published = await republish(c.env, (current) => {
      const campaigns = current.campaigns ?? [];
      if (!campaigns.some((x) => x.id === id)) throw new ProblemError('not-found', `no campaign ${id} in model v${current.version}`);
      return campaigns.filter((x) => x.id !== id);
    });
    return c.json({ model_version: published.version, campaigns: published.campaigns ?? [] });
  });
