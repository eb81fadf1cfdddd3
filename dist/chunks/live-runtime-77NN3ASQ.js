import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a}from"./chunk-HSDWE7AF.js";import"./chunk-ZPSNVMWV.js";export{a as liveRuntime};
