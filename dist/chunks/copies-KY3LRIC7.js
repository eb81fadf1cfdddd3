import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a}from"./chunk-HSVTFZ5D.js";import"./chunk-QPZ2G4AX.js";import"./chunk-XAUIBL7C.js";import"./chunk-FZHYYTK2.js";import"./chunk-ZPSNVMWV.js";export{a as digitalOceanCopies};
