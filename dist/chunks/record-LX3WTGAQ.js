import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b,c,d}from"./chunk-A4TVBVHQ.js";import"./chunk-QEYZ73JJ.js";import"./chunk-J7UUCLXG.js";import"./chunk-JJDERMCE.js";import"./chunk-Z44AQMFX.js";import"./chunk-ZPSNVMWV.js";export{a as auditRecord,d as lastAudits,c as renderAuditMarkdown,b as writeAuditRecords};
