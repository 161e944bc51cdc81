// Writes the certificates the mutual-TLS tests use (RFC 8705) to test/fixtures/mtls/, with the
// openssl CLI: a test CA, a server certificate for 127.0.0.1 and two client certificates, each
// with its key (EC P-256) and valid for 100 years, so the committed copies never expire.
// The CA's key is thrown away: rerunning the script replaces the whole set.
//
//   node scripts/generate-mtls-fixtures.mjs
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const OUT = join(import.meta.dirname, '..', 'test', 'fixtures', 'mtls');
const DAYS = '36500';

/** Each certificate: its file name, subject CN and X.509v3 extensions. */
const CERTIFICATES = [
  {
    name: 'ca',
    cn: 'VoxKey test CA',
    extensions: [
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
    ],
  },
  {
    name: 'server',
    cn: '127.0.0.1',
    extensions: [
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = serverAuth',
      'subjectAltName = IP:127.0.0.1, DNS:localhost',
    ],
  },
  ...['client-a', 'client-b'].map((name) => ({
    name,
    cn: name,
    extensions: [
      'basicConstraints = critical, CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = clientAuth',
    ],
  })),
];

const work = mkdtempSync(join(tmpdir(), 'mtls-fixtures-'));
try {
  mkdirSync(OUT, { recursive: true });
  const caKey = join(work, 'ca.key');
  const caCert = join(OUT, 'ca.pem');
  for (const { name, cn, extensions } of CERTIFICATES) {
    // A config of its own, so the machine's openssl.cnf adds no extension.
    const config = join(work, `${name}.cnf`);
    writeFileSync(
      config,
      [
        '[req]',
        'prompt = no',
        'distinguished_name = dn',
        'x509_extensions = ext',
        '[dn]',
        `CN = ${cn}`,
        '[ext]',
        ...extensions,
        '',
      ].join('\n'),
    );
    const isCa = name === 'ca';
    const key = isCa ? caKey : join(OUT, `${name}.key`);
    execFileSync('openssl', [
      'req',
      '-x509',
      '-config',
      config,
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-noenc',
      '-keyout',
      key,
      '-out',
      join(OUT, `${name}.pem`),
      '-days',
      DAYS,
      ...(isCa ? [] : ['-CA', caCert, '-CAkey', caKey]),
    ]);
  }
  console.log(`wrote ${CERTIFICATES.length} certificates to ${OUT}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
