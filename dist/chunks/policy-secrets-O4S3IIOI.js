import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b}from"./chunk-KNPS7GWW.js";import"./chunk-EPRGIYCJ.js";import"./chunk-LREE4G4H.js";import"./chunk-ZPSNVMWV.js";export{a as interpolatedSecrets,b as maskPolicySecrets};
