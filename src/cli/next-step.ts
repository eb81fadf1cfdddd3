import type { CredentialPolicy } from '../policy/types.js';

/**
 * After a CLI rotation, `current` still holds the old value (now refused): the next run would
 * start from drift. Names what to update: the variable(s) it was read from, or the key itself.
 */
export function updateCurrentHint(credential: CredentialPolicy, policyFile: string): string | undefined {
  const key = `credentials.${credential.id}.current`;
  const names = [...new Set(credential.currentVariables ?? [])];
  if (names.length > 0) {
    const list = names.join(' and ');
    return `next: update ${list} to the new value (${key} reads ${names.length === 1 ? 'it' : 'them'}, and ${names.length === 1 ? 'it holds' : 'they hold'} the old one, now refused); the new value is in the store targets`;
  }
  if (credential.current)
    return `next: update ${key} in ${policyFile} to the new value (it holds the old one, now refused); the new value is in the store targets`;
  return undefined;
}
