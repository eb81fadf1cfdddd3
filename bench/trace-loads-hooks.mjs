// The off-thread variant of trace-loads.mjs, for Nodes without module.registerHooks (22.12):
// module.register runs these hooks in a loader thread, which gets the trace file through `data`.
import { appendFileSync } from 'node:fs';

let out;
export function initialize(data) {
  out = data?.out;
}
export async function load(url, context, nextLoad) {
  if (out && url.startsWith('file:')) appendFileSync(out, `${url}\n`);
  return nextLoad(url, context);
}
