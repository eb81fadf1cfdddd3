import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a as t}from"./chunk-ZPSNVMWV.js";function n(i){let r=i.settings.logins;return Array.isArray(r)&&r.length===2?[String(r[0]),String(r[1])]:[`${i.role}_a`,`${i.role}_b`]}t(n,"loginsOf");export{n as a};
