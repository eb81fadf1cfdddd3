import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b,c,d}from"./chunk-DXIFAMYM.js";import"./chunk-HBAROPZY.js";import"./chunk-5CO2OE6G.js";import"./chunk-TM62GEPO.js";import"./chunk-ZDBKKG3O.js";import"./chunk-FZHYYTK2.js";import"./chunk-ZPSNVMWV.js";export{a as auditRecord,d as lastAudits,c as renderAuditMarkdown,b as writeAuditRecords};
