import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a,b,c,d}from"./chunk-NPJQTPLS.js";import"./chunk-LQCGLSTA.js";import"./chunk-XLGUAPJF.js";import"./chunk-FN2TKVDI.js";import"./chunk-T6QCEJ6H.js";import"./chunk-Z44AQMFX.js";import"./chunk-ZPSNVMWV.js";export{a as auditRecord,d as lastAudits,c as renderAuditMarkdown,b as writeAuditRecords};
