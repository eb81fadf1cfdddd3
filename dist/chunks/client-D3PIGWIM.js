import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a as b}from"./chunk-O5K27XLI.js";import"./chunk-CQMQZBVC.js";import"./chunk-PN27633Y.js";import{a}from"./chunk-KPPV2XCK.js";import"./chunk-JJDERMCE.js";import"./chunk-Z44AQMFX.js";import"./chunk-ZPSNVMWV.js";export{a as DEFAULT_API_URL,b as digitalOceanClient};
