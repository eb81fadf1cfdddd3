import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b}from"./chunk-PKDJZYLX.js";import"./chunk-4CCFY7J2.js";import"./chunk-JZBRWTV2.js";import"./chunk-HOBAWYTW.js";import"./chunk-RVQXUKNY.js";import"./chunk-FN2TKVDI.js";import"./chunk-JJDERMCE.js";import"./chunk-Z44AQMFX.js";import"./chunk-ZPSNVMWV.js";export{a as loadPolicy,b as parsePolicy};
