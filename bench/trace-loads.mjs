// Preloaded by the bench (`node --import ./bench/trace-loads.mjs dist/index.js`): appends the URL
// of every module the run loads to $TRACE_LOADS, so the bench measures the code a run parses.
import { registerHooks } from 'node:module';
import { appendFileSync } from 'node:fs';

const out = process.env.TRACE_LOADS;
registerHooks({
  load(url, context, nextLoad) {
    if (out && url.startsWith('file:')) appendFileSync(out, `${url}\n`);
    return nextLoad(url, context);
  },
});
