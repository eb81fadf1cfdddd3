import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b,c,d}from"./chunk-5AROXVU6.js";import"./chunk-S4KWVEMQ.js";import"./chunk-5CO2OE6G.js";import"./chunk-BCHLFC3L.js";import"./chunk-ZDBKKG3O.js";import"./chunk-FZHYYTK2.js";import"./chunk-ZPSNVMWV.js";export{a as auditRecord,d as lastAudits,c as renderAuditMarkdown,b as writeAuditRecords};
