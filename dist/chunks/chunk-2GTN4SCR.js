import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);
import{a as i}from"./chunk-RWYH6XQG.js";import{a as e}from"./chunk-ZPSNVMWV.js";var s=class{constructor(r=process.stdout,t=process.stderr){this.out=r;this.err=t}out;err;static{e(this,"ConsoleReporter")}scrubber=new i;indent="";mask(r){this.scrubber.add(r)}scrub(r){return this.scrubber.scrub(r)}info(r){this.out.write(`${this.indent}${this.scrubber.scrub(r)}
`)}warning(r){this.err.write(`${this.indent}warning: ${this.scrubber.scrub(r)}
`)}error(r){this.err.write(`${this.indent}error: ${this.scrubber.scrub(r)}
`)}async group(r,t){this.out.write(`${this.indent}\u25B8 ${this.scrubber.scrub(r)}
`);let n=this.indent;this.indent+="  ";try{return await t()}finally{this.indent=n}}};export{s as a};
