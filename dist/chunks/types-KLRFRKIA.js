import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b,c}from"./chunk-65JXHJXW.js";import"./chunk-ZPSNVMWV.js";export{a as RULES,b as check,c as failsAt};
