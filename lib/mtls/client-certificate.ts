import { createHash, X509Certificate } from 'node:crypto';
import type { ResolvedMtls } from '../interfaces/resolved-voxkey-options.interface.js';
import { type RequestWithHeaders, singleRawHeader } from '../token/bearer-header.parser.js';

/** A request as the certificate sources read it (Express, or Fastify with its Node request). */
export interface CertificateRequest extends RequestWithHeaders {
  readonly socket?: unknown;
  readonly raw?: RequestWithHeaders['raw'] & { readonly socket?: unknown };
}

/** What a request shows of its client certificate. */
export type ClientCertificate =
  /** `thumbprint`: base64url SHA-256 of the DER, as `cnf.x5t#S256` holds it. */
  | { readonly kind: 'certificate'; readonly thumbprint: string }
  | { readonly kind: 'missing' }
  /** Repeated, unparsable or ambiguous; `detail` is safe to log. */
  | { readonly kind: 'invalid'; readonly detail: string };

const MISSING: ClientCertificate = { kind: 'missing' };
/** Longest certificate header read: a PEM with a 4096-bit key, URL-encoded, is about 3 KB. */
const MAX_HEADER_LENGTH = 16_384;

/** The RFC 8705 thumbprint of a certificate (PEM text or DER bytes); undefined if it does not parse. */
export function certificateThumbprint(certificate: string | Buffer): string | undefined {
  try {
    const der = new X509Certificate(certificate).raw;
    return createHash('sha256').update(der).digest('base64url');
  } catch {
    return undefined;
  }
}

function thumbprintOf(certificate: string | Buffer, source: string): ClientCertificate {
  const thumbprint = certificateThumbprint(certificate);
  return thumbprint === undefined
    ? { kind: 'invalid', detail: `the ${source} certificate does not parse` }
    : { kind: 'certificate', thumbprint };
}

function decoded(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/**
 * The `Cert` of an Envoy `x-forwarded-client-cert` value holding exactly one element (one
 * client, one proxy): `key=value` pairs separated by `;`, values perhaps quoted, with `\"` for a
 * quote inside (a client-chosen `Subject` may hold one).
 */
function xfccCert(value: string): string | undefined | 'ambiguous' {
  let element = 0;
  let cert: string | undefined;
  let count = 0;
  let i = 0;
  while (i < value.length) {
    const eq = value.indexOf('=', i);
    if (eq === -1) return 'ambiguous';
    const key = value.slice(i, eq).trim().toLowerCase();
    let j = eq + 1;
    let text: string;
    if (value[j] === '"') {
      // A quoted value, in which `\"` and `\\` are escapes (Envoy quotes values holding , ; = ");
      // it must end the pair.
      text = '';
      for (j++; j < value.length && value[j] !== '"'; j++) {
        text += value[j] === '\\' ? (value[++j] ?? '') : value[j];
      }
      if (j >= value.length) return 'ambiguous';
      j++;
      if (j < value.length && value[j] !== ';' && value[j] !== ',') return 'ambiguous';
    } else {
      const end = value.slice(j).search(/[;,]/);
      text = end === -1 ? value.slice(j) : value.slice(j, j + end);
      j = end === -1 ? value.length : j + end;
    }
    if (key === 'cert') {
      count++;
      cert = text;
    }
    if (value[j] === ',') element++;
    i = j + 1;
  }
  return element > 0 || count > 1 ? 'ambiguous' : cert;
}

/**
 * The client certificate of a request, from the configured source: the TLS socket (the DER of
 * the peer certificate), Envoy's `x-forwarded-client-cert` (`Cert=`, URL-encoded PEM, one
 * element only), nginx's `ssl-client-cert` (`$ssl_client_escaped_cert`, URL-encoded PEM), or
 * the application's function (PEM or DER). Never throws.
 * @see RFC 8705 §3
 */
export function readClientCertificate(
  request: CertificateRequest,
  source: ResolvedMtls['certificate'],
): ClientCertificate {
  if (typeof source === 'function') {
    let value: string | Buffer | undefined;
    try {
      value = source(request);
    } catch {
      return { kind: 'invalid', detail: "'mtls.certificate' threw" };
    }
    if (value === undefined || value === '' || (Buffer.isBuffer(value) && value.length === 0)) {
      return MISSING;
    }
    return typeof value === 'string' || Buffer.isBuffer(value)
      ? thumbprintOf(value, 'returned')
      : { kind: 'invalid', detail: "'mtls.certificate' returned neither a string nor a Buffer" };
  }
  if (source === 'socket') {
    const socket = (request.socket ?? request.raw?.socket) as
      { getPeerCertificate?: () => { raw?: unknown } | null } | undefined;
    const raw =
      typeof socket?.getPeerCertificate === 'function'
        ? socket.getPeerCertificate()?.raw
        : undefined;
    return Buffer.isBuffer(raw) && raw.length > 0 ? thumbprintOf(raw, 'TLS') : MISSING;
  }
  const header = singleRawHeader(request, source);
  if (header === undefined || header === '') return MISSING;
  if (header === 'several') return { kind: 'invalid', detail: `several ${source} headers` };
  if (header.length > MAX_HEADER_LENGTH)
    return { kind: 'invalid', detail: `the ${source} header is too large` };
  const encoded = source === 'ssl-client-cert' ? header : xfccCert(header);
  if (encoded === 'ambiguous') {
    return {
      kind: 'invalid',
      detail: 'the x-forwarded-client-cert header is not one element with one Cert',
    };
  }
  if (encoded === undefined) return MISSING;
  const pem = decoded(encoded);
  return pem === undefined
    ? { kind: 'invalid', detail: `the ${source} header is not URL-encoded PEM` }
    : thumbprintOf(pem, source);
}
