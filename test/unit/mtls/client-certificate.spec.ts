import { X509Certificate } from 'node:crypto';
import {
  type CertificateRequest,
  certificateThumbprint,
  readClientCertificate,
} from '../../../lib/mtls/client-certificate';
import { MTLS } from '../../support/mtls';

const PEM_A = MTLS.clientA.cert;
const DER_A = new X509Certificate(PEM_A).raw;
const DER_B = new X509Certificate(MTLS.clientB.cert).raw;

/** Node's own fingerprint (colon-separated hex of the same SHA-256) as base64url. */
const fingerprint = (pem: string) =>
  Buffer.from(new X509Certificate(pem).fingerprint256.replaceAll(':', ''), 'hex').toString(
    'base64url',
  );
const A = { kind: 'certificate', thumbprint: fingerprint(PEM_A) };
const B = { kind: 'certificate', thumbprint: fingerprint(MTLS.clientB.cert) };
const MISSING = { kind: 'missing' };
const invalid = (detail: string) => ({ kind: 'invalid', detail });

/** nginx's `$ssl_client_escaped_cert`: every reserved character escaped, newlines as %0A. */
const escaped = (pem: string) => encodeURIComponent(pem);
/** Envoy's XFCC `Cert`: only what must be escaped (spaces, newlines), lower-case hex. */
const envoyEncoded = (pem: string) => pem.replaceAll(' ', '%20').replaceAll('\n', '%0a');

/** An Express-like request with these header fields, each also in `rawHeaders`. */
function withHeaders(...fields: [string, string][]): CertificateRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of fields) headers[name.toLowerCase()] = value;
  return { headers, rawHeaders: fields.flat() };
}

describe('certificateThumbprint (RFC 8705 §3.1)', () => {
  it("is Node's fingerprint256 as base64url, from the PEM or the DER", () => {
    expect(certificateThumbprint(PEM_A)).toBe(fingerprint(PEM_A));
    expect(certificateThumbprint(DER_A)).toBe(fingerprint(PEM_A));
    expect(certificateThumbprint(DER_B)).toBe(fingerprint(MTLS.clientB.cert));
    expect(certificateThumbprint(PEM_A)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it.each([
    ['an empty string', ''],
    ['text', 'not a certificate'],
    ['a private key', MTLS.clientA.key],
    ['a truncated PEM', PEM_A.slice(0, 200)],
    ['random bytes', Buffer.from('0123456789abcdef')],
  ])('is undefined for %s', (_, value) => {
    expect(certificateThumbprint(value)).toBeUndefined();
  });
});

describe("readClientCertificate: 'socket'", () => {
  const socket = (peer: unknown) => ({ getPeerCertificate: () => peer });

  it('reads the DER of the TLS peer certificate (Express: req.socket)', () => {
    expect(readClientCertificate({ socket: socket({ raw: DER_A }) }, 'socket')).toEqual(A);
    expect(readClientCertificate({ socket: socket({ raw: DER_B }) }, 'socket')).toEqual(B);
  });

  it("reads the Node request's socket under Fastify's request (req.raw.socket)", () => {
    expect(readClientCertificate({ raw: { socket: socket({ raw: DER_A }) } }, 'socket')).toEqual(A);
  });

  it.each([
    ['no socket', {}],
    ['a plain TCP socket (no getPeerCertificate)', { socket: {} }],
    ['no certificate presented ({})', { socket: socket({}) }],
    ['a null peer certificate', { socket: socket(null) }],
    ['an empty raw', { socket: socket({ raw: Buffer.alloc(0) }) }],
    ['a raw that is not a Buffer', { socket: socket({ raw: 'MIIB' }) }],
  ])('is missing with %s', (_, request) => {
    expect(readClientCertificate(request as CertificateRequest, 'socket')).toEqual(MISSING);
  });

  it('is invalid when the raw bytes do not parse', () => {
    expect(
      readClientCertificate({ socket: socket({ raw: Buffer.from('junk') }) }, 'socket'),
    ).toEqual(invalid('the TLS certificate does not parse'));
  });

  it('ignores certificate headers', () => {
    const request = { ...withHeaders(['ssl-client-cert', escaped(PEM_A)]), socket: socket({}) };
    expect(readClientCertificate(request, 'socket')).toEqual(MISSING);
  });
});

describe("readClientCertificate: 'x-forwarded-client-cert' (Envoy XFCC)", () => {
  const xfcc = (value: string) =>
    readClientCertificate(
      withHeaders(['X-Forwarded-Client-Cert', value]),
      'x-forwarded-client-cert',
    );
  const hash = 'Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688';
  const AMBIGUOUS = invalid('the x-forwarded-client-cert header is not one element with one Cert');

  it.each([
    ['quoted', `By=spiffe://proxy;${hash};Cert="${envoyEncoded(PEM_A)}"`],
    ['unquoted', `${hash};Cert=${escaped(PEM_A)}`],
    ['first', `Cert="${escaped(PEM_A)}";${hash}`],
    ['alone', `Cert=${envoyEncoded(PEM_A)}`],
    ['with a lower-case key', `${hash};cert="${escaped(PEM_A)}"`],
    [
      'among quoted values holding ; , and =',
      `${hash};Cert="${escaped(PEM_A)}";Subject="CN=a,O=b;c";URI=spiffe://client`,
    ],
  ])('reads the Cert of one element, %s', (_, value) => {
    expect(xfcc(value)).toEqual(A);
  });

  it('reads past a quoted Subject holding escaped quotes (\\"), which the client chooses', () => {
    const cert = `${hash};Cert="${escaped(PEM_A)}"`;
    expect(xfcc(`${cert};Subject="CN=O\\"Brien"`)).toEqual(A);
    expect(xfcc(`${cert};Subject="CN=\\"a;b=c\\""`)).toEqual(A);
    expect(xfcc(`${cert};Subject="CN=\\\\";URI=spiffe://client`)).toEqual(A);
  });

  it('reads no Cert out of a quoted value that looks like one', () => {
    // A subject of `";Cert=<PEM of another client>;x="`, as Envoy escapes it.
    expect(xfcc(`Subject="CN=\\";Cert=${escaped(MTLS.clientB.cert)};x=\\"";${hash}`)).toEqual(
      MISSING,
    );
    expect(xfcc(`${hash};Cert="${escaped(PEM_A)}";Subject="\\",Cert=x"`)).toEqual(A);
  });

  it('is missing without the header, or with an empty one', () => {
    expect(readClientCertificate({ headers: {} }, 'x-forwarded-client-cert')).toEqual(MISSING);
    expect(xfcc('')).toEqual(MISSING);
  });

  it('is missing for an element with no Cert (Hash and Subject only)', () => {
    expect(xfcc(hash)).toEqual(MISSING);
    expect(xfcc(`${hash};Subject="CN=client"`)).toEqual(MISSING);
  });

  it.each([
    ['two elements (two proxies)', `Cert="${escaped(PEM_A)}",Cert="${escaped(MTLS.clientB.cert)}"`],
    ['a second element without a Cert', `Cert="${escaped(PEM_A)}", ${hash}`],
    ['an element before the one with the Cert', `${hash},Cert="${escaped(PEM_A)}"`],
    [
      'two Cert keys in one element',
      `Cert="${escaped(MTLS.clientB.cert)}";Cert="${escaped(PEM_A)}"`,
    ],
    ['two Cert keys of the same certificate', `Cert=${escaped(PEM_A)};cert=${escaped(PEM_A)}`],
    ['a key without a value', `${hash};Cert`],
    ['an unterminated quote', `Cert="${escaped(PEM_A)}`],
    ['a quote left open by an escape', `Cert="${escaped(PEM_A)}\\"`],
    ['text after a closing quote', `Subject="CN=a"Cert=${escaped(PEM_A)}`],
  ])('is invalid with %s', (_, value) => {
    expect(xfcc(value)).toEqual(AMBIGUOUS);
  });

  it('is invalid when the Cert is not URL-encoded', () => {
    expect(xfcc(`Cert="%E0%A4%A"`)).toEqual(
      invalid('the x-forwarded-client-cert header is not URL-encoded PEM'),
    );
  });

  it.each([
    ['text', 'hello'],
    ['an empty Cert', ''],
    ['a private key', escaped(MTLS.clientA.key)],
    ['a truncated PEM', escaped(PEM_A.slice(0, 300))],
    ['base64 DER without the PEM armour', DER_A.toString('base64url')],
  ])('is invalid when the Cert is %s', (_, cert) => {
    expect(xfcc(`${hash};Cert="${cert}"`)).toEqual(
      invalid('the x-forwarded-client-cert certificate does not parse'),
    );
  });

  it('ignores the ssl-client-cert header and the socket', () => {
    const request = {
      ...withHeaders(['ssl-client-cert', escaped(PEM_A)]),
      socket: { getPeerCertificate: () => ({ raw: DER_A }) },
    };
    expect(readClientCertificate(request, 'x-forwarded-client-cert')).toEqual(MISSING);
  });
});

describe("readClientCertificate: 'ssl-client-cert' (nginx $ssl_client_escaped_cert)", () => {
  const nginx = (value: string) =>
    readClientCertificate(withHeaders(['SSL-Client-Cert', value]), 'ssl-client-cert');

  it('reads an escaped PEM, fully or minimally escaped', () => {
    expect(nginx(escaped(PEM_A))).toEqual(A);
    expect(nginx(envoyEncoded(MTLS.clientB.cert))).toEqual(B);
    expect(escaped(PEM_A)).toMatch(/^-----BEGIN%20CERTIFICATE-----%0A/);
  });

  it('is missing without the header, or with an empty one', () => {
    expect(readClientCertificate({ headers: {} }, 'ssl-client-cert')).toEqual(MISSING);
    expect(nginx('')).toEqual(MISSING);
  });

  it.each([
    ['text', 'hello', 'certificate does not parse'],
    [
      'a PEM whose base64 is cut',
      escaped(PEM_A.replace(/\n[A-Za-z0-9+/]{10}/, '\n')),
      'certificate does not parse',
    ],
    ['DER as base64', DER_A.toString('base64'), 'certificate does not parse'],
    ['bad URL-encoding', `${escaped(PEM_A)}%`, 'header is not URL-encoded PEM'],
  ])('is invalid for %s', (_, value, detail) => {
    expect(nginx(value)).toEqual(invalid(`the ssl-client-cert ${detail}`));
  });

  it('refuses a header over 16 KiB before decoding it', () => {
    expect(nginx(escaped(PEM_A) + '%0A'.repeat(6_000))).toEqual(
      invalid('the ssl-client-cert header is too large'),
    );
    // At the limit, the same padding is still read (trailing newlines do not change the DER).
    const padded = escaped(PEM_A) + '%0A'.repeat(Math.floor((16_384 - escaped(PEM_A).length) / 3));
    expect(padded.length).toBeLessThanOrEqual(16_384);
    expect(nginx(padded)).toEqual(A);
  });
});

describe('readClientCertificate: repeated header fields', () => {
  it.each(['ssl-client-cert', 'x-forwarded-client-cert'] as const)(
    'refuses %s sent twice, from Express rawHeaders or from Fastify raw.rawHeaders',
    (name) => {
      const value = name === 'ssl-client-cert' ? escaped(PEM_A) : `Cert="${escaped(PEM_A)}"`;
      const several = invalid(`several ${name} headers`);
      const express = withHeaders([name.toUpperCase(), value], [name, value]);
      expect(readClientCertificate(express, name)).toEqual(several);
      const fastify = { headers: express.headers, raw: { rawHeaders: express.rawHeaders } };
      expect(readClientCertificate(fastify, name)).toEqual(several);
    },
  );

  it('reads only the raw header list: a value in `headers` alone (added by a framework) is none', () => {
    const value = escaped(PEM_A);
    const missing = { kind: 'missing' };
    expect(
      readClientCertificate({ headers: { 'ssl-client-cert': [value, value] } }, 'ssl-client-cert'),
    ).toEqual(missing);
    expect(
      readClientCertificate(
        { headers: { 'ssl-client-cert': value }, rawHeaders: ['Host', 'x'] },
        'ssl-client-cert',
      ),
    ).toEqual(missing);
  });

  it('counts only the configured header', () => {
    const request = withHeaders(
      ['ssl-client-cert', escaped(PEM_A)],
      ['x-forwarded-client-cert', `Cert="${escaped(MTLS.clientB.cert)}"`],
    );
    expect(readClientCertificate(request, 'ssl-client-cert')).toEqual(A);
    expect(readClientCertificate(request, 'x-forwarded-client-cert')).toEqual(B);
  });
});

describe('readClientCertificate: a function', () => {
  const read = (value: unknown) =>
    readClientCertificate({ headers: {} }, (() => value) as () => string);

  it('is given the request', () => {
    const request = { headers: { 'x-cert': PEM_A } };
    const source = jest.fn((r: unknown) => (r as typeof request).headers['x-cert']);
    expect(readClientCertificate(request, source)).toEqual(A);
    expect(source).toHaveBeenCalledWith(request);
  });

  it('reads a PEM or a DER Buffer', () => {
    expect(read(PEM_A)).toEqual(A);
    expect(read(DER_B)).toEqual(B);
  });

  it.each([
    ['undefined', undefined],
    ['an empty string', ''],
    ['an empty Buffer', Buffer.alloc(0)],
  ])('is missing when it returns %s', (_, value) => {
    expect(read(value)).toEqual(MISSING);
  });

  it.each([
    ['text', 'garbage'],
    ['a URL-encoded PEM (the function decodes)', escaped(PEM_A)],
    ['bytes that are not DER', Buffer.from('garbage')],
  ])('is invalid when it returns %s', (_, value) => {
    expect(read(value)).toEqual(invalid('the returned certificate does not parse'));
  });

  it.each([
    ['a number', 42],
    ['null', null],
    ['an object', { raw: DER_A }],
    ['a promise', Promise.resolve(PEM_A)],
  ])('is invalid when it returns %s', (_, value) => {
    expect(read(value)).toEqual(
      invalid("'mtls.certificate' returned neither a string nor a Buffer"),
    );
  });

  it('is invalid, without the error, when it throws', () => {
    const source = () => {
      throw new Error(`secret ${PEM_A}`);
    };
    const result = readClientCertificate({ headers: {} }, source);
    expect(result).toEqual(invalid("'mtls.certificate' threw"));
  });
});
