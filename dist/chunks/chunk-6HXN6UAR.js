import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a as m}from"./chunk-6QOZWWDD.js";import{b as n}from"./chunk-W65HN6B7.js";import{a as i}from"./chunk-ZPSNVMWV.js";function s(t){let e=m(t.policy,t.system);return e?n(e,t.runtime):void 0}i(s,"linkedCluster");export{s as a};
