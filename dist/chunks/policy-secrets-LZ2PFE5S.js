import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b}from"./chunk-BRC4JOGB.js";import"./chunk-ZDBKKG3O.js";import"./chunk-FZHYYTK2.js";import"./chunk-ZPSNVMWV.js";export{a as interpolatedSecrets,b as maskPolicySecrets};
