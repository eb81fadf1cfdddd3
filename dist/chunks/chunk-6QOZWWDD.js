import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a as s}from"./chunk-ZPSNVMWV.js";function o(n,e){if(e.type==="digitalocean")return e;if(e.type!=="postgres")return;let t=e,i=t.cluster??t.caFrom,r=i===void 0?void 0:n.systems[i];return r?.type==="digitalocean"?r:void 0}s(o,"clusterSystemOf");export{o as a};
