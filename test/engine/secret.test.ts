import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/secret/secret.js';
import { generatePassword, PASSWORD_ALPHABET } from '../../src/secret/generate.js';
import { MemoryReporter } from '../../src/report/reporter.js';

describe('Secret', () => {
  const s = new Secret('p4ssw0rd-value');
  it('shows [redacted] everywhere it could be printed', () => {
    expect(String(s)).toBe('[redacted]');
    expect(`${s}`).toBe('[redacted]');
    expect(JSON.stringify({ s })).toBe('{"s":"[redacted]"}');
    expect(inspect({ nested: { s } })).not.toContain('p4ssw0rd');
    expect(new Error(`failed with ${s}`).message).not.toContain('p4ssw0rd');
    expect(s.reveal()).toBe('p4ssw0rd-value');
  });
  it('is scrubbed from log lines once masked, also URL-encoded', () => {
    const r = new MemoryReporter();
    const url = new Secret('p@ss/word');
    r.mask(s);
    r.mask(url);
    r.info(`value p4ssw0rd-value and ${encodeURIComponent('p@ss/word')}`);
    expect(r.lines.join()).toBe('value *** and ***');
  });
});

describe('generatePassword', () => {
  it('is 32 characters from the safe alphabet by default, and configurable', () => {
    const p = generatePassword().reveal();
    expect(p).toHaveLength(32);
    expect(p).toMatch(/^[A-Za-z0-9._~-]+$/);
    expect(p).not.toMatch(/[:/@?#%&'"\\ ]/);
    expect(generatePassword(48).reveal()).toHaveLength(48);
    expect(() => generatePassword(8)).toThrow(/16 to 1024/);
  });
  it('uses every character of the alphabet about equally (no modulo bias)', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 2000; i++) for (const c of generatePassword(64).reveal()) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(PASSWORD_ALPHABET.length);
    const expected = (2000 * 64) / PASSWORD_ALPHABET.length;
    // Chi-square with 65 degrees of freedom: 120 is far beyond p = 0.0001.
    const chi = [...counts.values()].reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
    expect(chi).toBeLessThan(120);
  });
});
