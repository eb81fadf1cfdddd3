import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a as b}from"./chunk-IVUGBOCY.js";import"./chunk-DYU4C7JD.js";import"./chunk-2AOHFO6Q.js";import"./chunk-AOEAWKXR.js";import{a}from"./chunk-XAUIBL7C.js";import"./chunk-XIUFJ2RX.js";import"./chunk-FZHYYTK2.js";import"./chunk-ZPSNVMWV.js";export{a as DEFAULT_API_URL,b as digitalOceanClient};
