import type { CredentialPolicy, Policy } from '../policy/types.js';
import { evidenceRoot } from '../evidence/folder.js';
import { sameEndpoint, urlLogin, type Endpoint } from '../postgres/url.js';
import { RotationError } from '../errors/errors.js';

/**
 * Runs that cannot end well, refused in preflight before anything changes (dry runs included).
 */

/** evidence_dir must resolve inside the workspace (symlinks included) unless the policy opts out. */
export function refuseEvidenceOutside(policy: Policy, workspace: string): void {
  evidenceRoot(policy, workspace);
}

/**
 * Rotating the role an admin URL of the policy logs in as would lock the tool out of its next
 * run (that URL, in a secret, keeps the old password). `endpoints`: where the rotated role lives.
 */
export function refuseAdminLockout(policy: Policy, credential: CredentialPolicy, endpoints: Endpoint[]): void {
  for (const system of Object.values(policy.systems)) {
    if (!('adminUrl' in system)) continue;
    let admin;
    try {
      admin = urlLogin(system.adminUrl.reveal());
    } catch {
      continue; // the loader reports unusable URLs
    }
    if (admin.user !== credential.role || !endpoints.some((e) => sameEndpoint(e, admin))) continue;
    throw new RotationError(
      `credentials.${credential.id}: refusing to rotate role ${credential.role}: systems.${system.id}.admin_url logs in as ${credential.role} on ${admin.host}:${admin.port}, so the new password would lock this tool out of its next run`,
      {
        hint: 'rotate it through an admin URL that logs in as another role (CREATEROLE with ADMIN OPTION on it, see docs/database-admin.md), or point that admin_url at another role first; nothing was changed',
        code: 'ADMIN_LOCKOUT',
      },
    );
  }
}
