import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import { join } from 'node:path';

/** A certificate and its private key, PEM. */
export interface CertificateAndKey {
  cert: string;
  key: string;
}

const read = (name: string) =>
  readFileSync(join(__dirname, '..', 'fixtures', 'mtls', name), 'utf8');
const pair = (name: string): CertificateAndKey => ({
  cert: read(`${name}.pem`),
  key: read(`${name}.key`),
});

/**
 * The committed test PKI (scripts/generate-mtls-fixtures.mjs): a CA, a server certificate for
 * 127.0.0.1 (and localhost), and two client certificates, all issued by that CA.
 */
export const MTLS = {
  ca: read('ca.pem'),
  server: pair('server'),
  clientA: pair('client-a'),
  clientB: pair('client-b'),
};

/**
 * Options for an `https` server on 127.0.0.1 that asks every client for a certificate and lets
 * the application decide what to do with it (or with its absence): the resource server of the
 * mTLS tests, and the realm's mTLS listener.
 */
export function mtlsServerOptions() {
  return {
    key: MTLS.server.key,
    cert: MTLS.server.cert,
    ca: MTLS.ca,
    requestCert: true,
    rejectUnauthorized: false,
  };
}

/**
 * The RFC 8705 §3.1 certificate thumbprint, `cnf["x5t#S256"]`: base64url SHA-256 of the DER.
 * @see RFC 8705 §3.1
 */
export function certificateThumbprint(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');
}

/** The answer to an {@link mtlsRequest}. */
export interface MtlsResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * An HTTPS request that trusts the test CA and presents `client` (or no certificate), on a
 * fresh connection each time so that one request's certificate never carries over to the next.
 * `headers` values may be arrays, to send a field twice.
 */
export function mtlsRequest(
  url: string,
  {
    client,
    method = 'GET',
    headers = {},
    body,
  }: {
    client?: CertificateAndKey;
    method?: string;
    headers?: OutgoingHttpHeaders;
    body?: string | URLSearchParams;
  } = {},
): Promise<MtlsResponse> {
  const payload = body === undefined ? undefined : body.toString();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers: {
          ...(body instanceof URLSearchParams
            ? { 'content-type': 'application/x-www-form-urlencoded' }
            : {}),
          ...(payload === undefined ? {} : { 'content-length': Buffer.byteLength(payload) }),
          ...headers,
        },
        ca: MTLS.ca,
        ...client,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
