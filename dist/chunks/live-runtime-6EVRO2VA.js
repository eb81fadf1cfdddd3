import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a}from"./chunk-O75QGEIA.js";import"./chunk-ODNO3C53.js";import"./chunk-ZPSNVMWV.js";export{a as liveRuntime};
