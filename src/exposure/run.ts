import type { Octokit } from '@octokit/rest';
import { rotateCredential } from '../engine/rotate.js';
import { RotationError } from '../errors/errors.js';
import type { Trigger } from '../evidence/record.js';
import type { Policy } from '../policy/types.js';
import type { Runtime } from '../runtime/runtime.js';
import { maskPolicySecrets } from '../secret/policy-secrets.js';
import { readOpenAlerts, updatePace, type SourceProblem } from './alerts.js';
import { planAlerts, type Planned } from './plan.js';
import { respond, type Handled, type Rotate } from './respond.js';

/** One row per alert (`--json`): never the value, only where it is and what was done. */
export interface ExposureRow {
  repository: string;
  number: number;
  url: string;
  secret_type: string;
  /** The managed credential the secret belongs to, or null. */
  credential: string | null;
  /** rotate: rotate, then resolve; resolve: the value is already refused; none: left open. */
  action: 'rotate' | 'resolve' | 'none';
  outcome: 'would rotate' | 'would resolve' | 'resolved' | 'left open' | 'failed';
  detail: string;
  /** The exposure record that names this alert (with --apply). */
  evidence?: string;
}

export interface ExposureReport {
  rows: ExposureRow[];
  /** Repositories and organizations that could not be read. */
  problems: SourceProblem[];
  /** Every record file written (exposure and rotation evidence), for the workflow to commit. */
  records: string[];
  /** Rotations started (one per credential at most). */
  rotations: number;
  /** 0: every matched alert handled (or nothing matched); 1: a rotation, an alert update or a source failed. */
  exitCode: 0 | 1;
}

export interface ExposureOptions {
  apply: boolean;
  trigger: Trigger;
  /** The engine's entry point (tests count or fail rotations through it). */
  rotate?: Rotate;
}

/**
 * `credential-rotation exposures`: GitHub secret-scanning alerts matched to the managed
 * credentials, and with `apply` each leaked value made dead and its alert resolved as revoked.
 * Without `apply` it reads and tries logins only: no rotation, no alert update, no record.
 * A token that cannot read a source stops the run before any rotation (issue 17).
 */
export async function runExposures(policy: Policy, options: ExposureOptions, runtime: Runtime): Promise<ExposureReport> {
  if (!policy.exposure) {
    throw new RotationError(`${policy.file} has no exposure: key`, {
      hint: 'add exposure: { repositories: [owner/name], organizations: [org] } naming where GitHub secret scanning reports leaks (see docs/exposure.md)',
    });
  }
  const token = runtime.githubToken;
  if (!token)
    throw new RotationError('GITHUB_TOKEN is not set: exposures reads the secret-scanning alerts with it', {
      hint: 'a GitHub App installation token (or fine-grained token) with "Secret scanning alerts: read and write" (and "Secrets: read and write" to store new values)',
    });
  maskPolicySecrets(policy, (secret) => runtime.reporter.mask(secret));
  runtime.reporter.mask(token);
  const octokit = await runtime.github(token, runtime);
  const { alerts, problems } = await readOpenAlerts(policy.exposure, octokit, runtime);
  for (const p of problems) {
    if (p.kind === 'disabled') runtime.reporter.warning(p.message);
    else runtime.reporter.error(p.message);
  }
  if (problems.some((p) => p.kind === 'permission')) {
    runtime.reporter.error('no rotation started: fix the token’s permissions and rerun');
    return { rows: [], problems, records: [], rotations: 0, exitCode: 1 };
  }
  const planned = await planAlerts(policy, alerts, runtime);
  const records: string[] = [];
  const rows = options.apply ? await applyPlan(policy, planned, options, runtime, octokit, records) : planned.map(dryRow);
  const rotations = options.apply
    ? new Set(planned.filter((p) => p.action === 'rotate').map((p) => (p as { credential: string }).credential)).size
    : 0;
  const failed =
    rows.some((r) => r.outcome === 'failed') ||
    planned.some((p) => p.action === 'none' && p.undecided) ||
    problems.some((p) => p.kind !== 'disabled');
  return { rows, problems, records: [...new Set(records)], rotations, exitCode: failed ? 1 : 0 };
}

async function applyPlan(
  policy: Policy,
  planned: Planned[],
  options: ExposureOptions,
  runtime: Runtime,
  octokit: Octokit,
  records: string[],
): Promise<ExposureRow[]> {
  const rows = new Map<Planned, ExposureRow>();
  for (const p of planned)
    if (p.action === 'none') rows.set(p, { ...rowBase(p), outcome: p.undecided ? 'failed' : 'left open', detail: p.reason });
  // One response per credential, however many alerts carry its values.
  const byCredential = new Map<string, Extract<Planned, { action: 'rotate' | 'resolve' }>[]>();
  for (const p of planned) if (p.action !== 'none') byCredential.set(p.credential, [...(byCredential.get(p.credential) ?? []), p]);
  const updates = updatePace(runtime);
  for (const [credential, items] of byCredential) {
    runtime.reporter.info(
      `${credential}: ${items.length} alert(s); ${items.some((i) => i.action === 'rotate') ? 'rotating with reason exposure' : 'the leaked value is already refused, resolving'}`,
    );
    const handled: Handled[] = await respond(policy, credential, items, {
      octokit,
      runtime,
      trigger: options.trigger,
      rotate: options.rotate ?? rotateCredential,
      updates,
    });
    records.push(...(handled[0]?.records ?? []));
    handled.forEach((h, i) =>
      rows.set(items[i], {
        ...rowBase(items[i]),
        outcome: h.resolved ? 'resolved' : 'failed',
        detail: h.detail,
        ...(h.evidence ? { evidence: h.evidence } : {}),
      }),
    );
  }
  return planned.map((p) => rows.get(p)!);
}

function rowBase(p: Planned): Omit<ExposureRow, 'outcome' | 'detail'> {
  const { alert } = p;
  return {
    repository: alert.repository,
    number: alert.number,
    url: alert.url,
    secret_type: alert.secretType,
    credential: p.action === 'none' ? null : p.credential,
    action: p.action,
  };
}

function dryRow(p: Planned): ExposureRow {
  const outcome =
    p.action === 'rotate'
      ? 'would rotate'
      : p.action === 'resolve'
        ? 'would resolve'
        : 'undecided' in p && p.undecided
          ? ('failed' as const)
          : ('left open' as const);
  const detail = p.action === 'resolve' ? `${p.reason}: ${p.proof!.detail}` : p.reason;
  return { ...rowBase(p), outcome, detail };
}
