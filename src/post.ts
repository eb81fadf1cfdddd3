// Entry point of the action's post step (action.yml `post: dist/post.js`, `post-if: always()`).
import { runPost } from './post/run.js';

await runPost();
