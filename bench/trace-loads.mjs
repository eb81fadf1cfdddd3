// Preloaded by the bench (`node --import ./bench/trace-loads.mjs dist/index.js`): appends the URL
// of every module the run loads to $TRACE_LOADS, so the bench measures the code a run parses.
// Node 22.15+ has synchronous in-thread hooks (module.registerHooks); Node 22.12, the oldest Node
// that engines allows, has only the off-thread module.register, which runs trace-loads-hooks.mjs.
import * as nodeModule from 'node:module';
import { appendFileSync } from 'node:fs';

const out = process.env.TRACE_LOADS;
if (typeof nodeModule.registerHooks === 'function') {
  nodeModule.registerHooks({
    load(url, context, nextLoad) {
      if (out && url.startsWith('file:')) appendFileSync(out, `${url}\n`);
      return nextLoad(url, context);
    },
  });
} else {
  nodeModule.register('./trace-loads-hooks.mjs', { parentURL: import.meta.url, data: { out } });
}
