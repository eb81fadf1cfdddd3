import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a as b}from"./chunk-OSZJNO7T.js";import"./chunk-W5IOISCG.js";import"./chunk-RQHVM7IY.js";import{a}from"./chunk-XAUIBL7C.js";import"./chunk-2BXXIZAE.js";import"./chunk-4FQQFZ4X.js";import"./chunk-FZHYYTK2.js";import"./chunk-ZPSNVMWV.js";export{a as DEFAULT_API_URL,b as digitalOceanClient};
