import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A certificate authority made for a test: its certificate (PEM, and as a file) and its key file. */
export interface TestCa {
  name: string;
  cert: string;
  certFile: string;
  keyFile: string;
  dir: string;
}

const openssl = (dir: string, args: string[]) => execFileSync('/usr/bin/openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

/** A self-signed CA, like the private CA DigitalOcean makes for each database cluster. */
export function makeCa(name: string): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'rotation-ca-'));
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { name, cert: readFileSync(join(dir, 'ca.crt'), 'utf8'), certFile: join(dir, 'ca.crt'), keyFile: join(dir, 'ca.key'), dir };
}

/** A server certificate signed by `ca` for the DNS names given (and no IP address), with its key. */
export function issueServerCert(ca: TestCa, dnsNames: string[]): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rotation-cert-'));
  writeFileSync(
    join(dir, 'ext.cnf'),
    `subjectAltName=${dnsNames.map((n) => `DNS:${n}`).join(',')}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
  );
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${dnsNames[0]}`, '-keyout', 'server.key', '-out', 'server.csr']);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
    '-out',
    'server.crt',
  ]);
  return { cert: readFileSync(join(dir, 'server.crt'), 'utf8'), key: readFileSync(join(dir, 'server.key'), 'utf8') };
}
