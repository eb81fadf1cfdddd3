// Entry point of the action (action.yml runs dist/index.js, bundled from here).
import { runAction } from './action.js';

await runAction();
