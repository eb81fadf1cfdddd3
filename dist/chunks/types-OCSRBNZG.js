import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b,c,d}from"./chunk-NP3IKF2R.js";import"./chunk-ZPSNVMWV.js";export{b as POWER_PATHS,a as RULES,c as check,d as failsAt};
