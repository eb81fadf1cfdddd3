import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b,c,d}from"./chunk-PI5YO4Q4.js";import"./chunk-ADEU2WBZ.js";import"./chunk-5CO2OE6G.js";import"./chunk-QDON6ATJ.js";import"./chunk-KZI37RJI.js";import"./chunk-FZHYYTK2.js";import"./chunk-ZPSNVMWV.js";export{a as auditRecord,d as lastAudits,c as renderAuditMarkdown,b as writeAuditRecords};
