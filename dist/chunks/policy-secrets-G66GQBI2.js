import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b}from"./chunk-EKEFK4LR.js";import"./chunk-XIUFJ2RX.js";import"./chunk-T6QCEJ6H.js";import"./chunk-Z44AQMFX.js";import"./chunk-ZPSNVMWV.js";export{a as interpolatedSecrets,b as maskPolicySecrets};
