import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a as t}from"./chunk-ZPSNVMWV.js";function c(e,r,n){return e?r.map(s=>(n===void 0?e:e.replaceAll("{user}",n)).replaceAll("{password_url}",encodeURIComponent(s)).replaceAll("{password}",s)):r}t(c,"renderFormat");export{c as a};
