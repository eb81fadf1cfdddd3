import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a as r}from"./chunk-PHTKIMZS.js";import{a as t}from"./chunk-ZPSNVMWV.js";var n=["scheduled","exposure","manual"];function s(e){return e.method==="alternating-roles"?r(e):void 0}t(s,"recordedLogins");export{n as a,s as b};
