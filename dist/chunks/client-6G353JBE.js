import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a as b}from"./chunk-7NEA4KSL.js";import"./chunk-H5BF2JKF.js";import"./chunk-D3RJFI7L.js";import{a}from"./chunk-BZEFT33D.js";import"./chunk-EPRGIYCJ.js";import"./chunk-LREE4G4H.js";import"./chunk-ZPSNVMWV.js";export{a as DEFAULT_API_URL,b as digitalOceanClient};
