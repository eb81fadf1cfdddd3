import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{b as a}from"./chunk-R5ZVZUV5.js";import"./chunk-ZPSNVMWV.js";export{a as liveRuntime};
