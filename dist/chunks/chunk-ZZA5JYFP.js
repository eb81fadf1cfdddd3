import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a as i}from"./chunk-ZPSNVMWV.js";async function l(e,n,s,o=2e3){let a=e.now().getTime()+n*1e3;for(let r=1;;r++){let t=await s();if(t.ok)return t;if(e.now().getTime()+o>a||e.signal?.aborted)return{...t,tries:r};await e.sleep(o)}}i(l,"untilDeadline");export{l as a};
