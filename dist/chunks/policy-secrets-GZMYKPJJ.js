import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b}from"./chunk-UU2EKDNQ.js";import"./chunk-XIUFJ2RX.js";import"./chunk-FZHYYTK2.js";import"./chunk-ZPSNVMWV.js";export{a as interpolatedSecrets,b as maskPolicySecrets};
