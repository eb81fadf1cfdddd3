import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a as b}from"./chunk-HXPB2L3Q.js";import"./chunk-ERVSTBEZ.js";import"./chunk-RQHVM7IY.js";import"./chunk-TM62GEPO.js";import{a}from"./chunk-XAUIBL7C.js";import"./chunk-ZDBKKG3O.js";import"./chunk-FZHYYTK2.js";import"./chunk-ZPSNVMWV.js";export{a as DEFAULT_API_URL,b as digitalOceanClient};
