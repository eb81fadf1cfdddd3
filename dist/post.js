import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a as e}from"./chunks/chunk-ZPSNVMWV.js";var t=e(i=>process.env[`STATE_${i}`]??"","state");t("started")?t("finished")?process.stdout.write(`credential-rotation: the main step finished (${t("finished")}); nothing to check
`):await(await import("./chunks/run-EDQWMESM.js")).runPost():process.stdout.write(`credential-rotation: the main step did not start; nothing to check
`);
