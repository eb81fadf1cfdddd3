import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a}from"./chunk-2NI5K2VO.js";import"./chunk-6HXN6UAR.js";import"./chunk-6QOZWWDD.js";import"./chunk-W65HN6B7.js";import"./chunk-T6QCEJ6H.js";import"./chunk-Z44AQMFX.js";import"./chunk-ZPSNVMWV.js";export{a as digitalOceanCopies};
