import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a as i}from"./chunk-ZPSNVMWV.js";function n(t){let r=t.settings.logins;return Array.isArray(r)&&r.length===2?[String(r[0]),String(r[1])]:[`${t.role}_a`,`${t.role}_b`]}i(n,"loginsOf");export{n as a};
