import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b,c,d}from"./chunk-MML76CJV.js";import"./chunk-PX2KMBQE.js";import"./chunk-QRL52YSG.js";import"./chunk-EPRGIYCJ.js";import"./chunk-LREE4G4H.js";import"./chunk-ZPSNVMWV.js";export{a as auditRecord,d as lastAudits,c as renderAuditMarkdown,b as writeAuditRecords};
