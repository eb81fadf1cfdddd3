import { LineCounter, parseDocument, visit, isAlias } from 'yaml';
import { PolicyError } from './errors.js';

/** The YAML as plain data; every syntax problem (and an alias bomb) named with the file and line. */
export function readYaml(text: string, file: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter });
  if (doc.errors.length > 0) {
    throw new PolicyError(
      file,
      doc.errors.map((e) => `line ${e.linePos?.[0]?.line ?? '?'}, column ${e.linePos?.[0]?.col ?? '?'}: ${e.message.split('\n')[0]}`),
    );
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // toJS() reports an unknown alias or an alias bomb without a position: name the alias's line
    // (the unresolved one, or the first).
    const unresolved = /unresolved/i.test((error as Error).message);
    let line: number | undefined;
    visit(doc, {
      Alias(_key, node) {
        if (!isAlias(node) || !node.range || (unresolved && node.resolve(doc))) return undefined;
        line = lineCounter.linePos(node.range[0]).line;
        return visit.BREAK;
      },
    });
    throw new PolicyError(file, [`${line ? `line ${line}: ` : ''}${(error as Error).message}`]);
  }
}
