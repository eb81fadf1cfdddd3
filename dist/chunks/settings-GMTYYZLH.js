import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b}from"./chunk-W65HN6B7.js";import"./chunk-T6QCEJ6H.js";import"./chunk-Z44AQMFX.js";import"./chunk-ZPSNVMWV.js";export{a as DEFAULT_API_URL,b as digitalOceanSystemSettings};
