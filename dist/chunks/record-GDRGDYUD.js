import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b,c,d}from"./chunk-EIMQ44E5.js";import"./chunk-T4PUFD3T.js";import"./chunk-5CO2OE6G.js";import"./chunk-2BXXIZAE.js";import"./chunk-4FQQFZ4X.js";import"./chunk-FZHYYTK2.js";import"./chunk-ZPSNVMWV.js";export{a as auditRecord,d as lastAudits,c as renderAuditMarkdown,b as writeAuditRecords};
