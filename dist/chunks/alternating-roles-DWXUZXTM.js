import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b}from"./chunk-RWH7NXJJ.js";import"./chunk-SMO4CDA6.js";import"./chunk-QMSGR5IW.js";import"./chunk-TOCJOH2N.js";import"./chunk-ZDQR4TRR.js";import"./chunk-ATT635EZ.js";import"./chunk-LREE4G4H.js";import"./chunk-ZPSNVMWV.js";export{b as alternatingRoles,a as loginsOf};
