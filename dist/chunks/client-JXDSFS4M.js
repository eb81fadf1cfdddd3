import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a as b}from"./chunk-7YQXNJ6N.js";import"./chunk-CQMQZBVC.js";import"./chunk-PN27633Y.js";import{a}from"./chunk-5NYAPTZ3.js";import"./chunk-T6QCEJ6H.js";import"./chunk-Z44AQMFX.js";import"./chunk-ZPSNVMWV.js";export{a as DEFAULT_API_URL,b as digitalOceanClient};
