import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b,c,d}from"./chunk-7ZQT2R4T.js";import"./chunk-KRCEFGLY.js";import"./chunk-WA6OVGRH.js";import"./chunk-FN2TKVDI.js";import"./chunk-JJDERMCE.js";import"./chunk-Z44AQMFX.js";import"./chunk-ZPSNVMWV.js";export{a as auditRecord,d as lastAudits,c as renderAuditMarkdown,b as writeAuditRecords};
