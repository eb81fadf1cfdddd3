import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a}from"./chunk-PAXWNXVT.js";import"./chunk-ZPSNVMWV.js";export{a as clusterCa};
