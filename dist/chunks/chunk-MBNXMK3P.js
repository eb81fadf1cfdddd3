import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a as n}from"./chunk-ZPSNVMWV.js";function c(e,r){return e?r.map(t=>e.replaceAll("{password_url}",encodeURIComponent(t)).replaceAll("{password}",t)):r}n(c,"renderFormat");export{c as a};
