// The run's collaborators are part of the adapter contracts (adapters/context.ts); re-exported here
// for the engine's callers.
export type { AdapterContext, Runtime } from '../adapters/context.js';
