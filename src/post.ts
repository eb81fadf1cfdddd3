// Entry point of the action's post step (action.yml `post: dist/post.js`, `post-if: always()`).
// It runs after every job, and almost always the main step finished: that case is decided from the
// state the runner passes (STATE_<name>, what @actions/core's getState reads) and costs one line;
// the inspection, with its libraries, is loaded only when the main step was cut off.
const state = (name: string) => process.env[`STATE_${name}`] ?? '';

if (!state('started')) process.stdout.write('credential-rotation: the main step did not start; nothing to check\n');
else if (state('finished')) process.stdout.write(`credential-rotation: the main step finished (${state('finished')}); nothing to check\n`);
else await (await import('./post/run.js')).runPost();
