import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b}from"./chunk-6IXRHLMN.js";import"./chunk-KZI37RJI.js";import"./chunk-FZHYYTK2.js";import"./chunk-ZPSNVMWV.js";export{a as interpolatedSecrets,b as maskPolicySecrets};
