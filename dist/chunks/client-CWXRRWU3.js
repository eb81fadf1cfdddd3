import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a as b}from"./chunk-QQDQUDTT.js";import"./chunk-NUOAYJ5D.js";import"./chunk-RQHVM7IY.js";import{a}from"./chunk-XAUIBL7C.js";import"./chunk-QDON6ATJ.js";import"./chunk-KZI37RJI.js";import"./chunk-FZHYYTK2.js";import"./chunk-ZPSNVMWV.js";export{a as DEFAULT_API_URL,b as digitalOceanClient};
