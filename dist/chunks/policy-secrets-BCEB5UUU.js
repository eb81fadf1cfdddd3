import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b}from"./chunk-OZTJ7X3S.js";import"./chunk-4FQQFZ4X.js";import"./chunk-FZHYYTK2.js";import"./chunk-ZPSNVMWV.js";export{a as interpolatedSecrets,b as maskPolicySecrets};
