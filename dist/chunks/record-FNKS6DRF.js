import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b,c,d}from"./chunk-OKLRST62.js";import"./chunk-O3OFO3JB.js";import"./chunk-5CO2OE6G.js";import"./chunk-AOEAWKXR.js";import"./chunk-XIUFJ2RX.js";import"./chunk-FZHYYTK2.js";import"./chunk-ZPSNVMWV.js";export{a as auditRecord,d as lastAudits,c as renderAuditMarkdown,b as writeAuditRecords};
