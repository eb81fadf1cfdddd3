/**
 * Replaces `${NAME}` in every string of the parsed policy with the environment variable NAME.
 * Missing or empty variables are added to `problems` (each with its key path) instead of thrown,
 * so one run reports all of them; with no `problems` list they are left as `${NAME}`. `used`
 * collects the variable names each key path read.
 */
export function interpolate(
  value: unknown,
  env: NodeJS.ProcessEnv,
  path: string[] = [],
  problems?: string[],
  used?: Map<string, string[]>,
): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, name: string) => {
      // Which variables fed which key: after a rotation the CLI names the one behind `current`.
      if (used) used.set(keyPath(path), [...(used.get(keyPath(path)) ?? []), name]);
      const found = env[name];
      if (found === undefined || found === '') {
        // Without a problems list (plan, status), a missing variable is left as written.
        if (!problems) return _match;
        problems.push(`${keyPath(path)}: environment variable ${name} is ${found === undefined ? 'not set' : 'empty'}`);
        return '';
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, env, [...path, String(i)], problems, used));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, [...path, k], problems, used)]));
  }
  return value;
}

/** `credentials.odoo_app.store[0].github.secret` */
export function keyPath(path: string[]): string {
  if (path.length === 0) return '(top level)';
  return path.reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}
