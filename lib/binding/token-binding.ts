import { Inject, Injectable } from '@nestjs/common';
import { VoxKeyDpopError, VoxKeyTokenError } from '../errors/voxkey.errors.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import {
  type DpopProofPolicy,
  verifyDpopProof,
  type VerifiedDpopProof,
} from '../dpop/dpop-proof.verifier.js';
import { DpopNonces } from '../dpop/dpop-nonce.js';
import { DpopReplayCache } from '../dpop/dpop-replay.cache.js';
import { requestHtu } from '../dpop/htu.js';
import { type CertificateRequest, readClientCertificate } from '../mtls/client-certificate.js';
import { singleRawHeader } from '../token/bearer-header.parser.js';
import { SharedState } from '../store/shared-state.js';
import { VOXKEY_RESOLVED_OPTIONS } from '../voxkey.constants.js';

/** The HTTP request a binding is checked against (Express, or Fastify with its Node request). */
export interface BindingRequest extends CertificateRequest {
  readonly method?: string;
  readonly url?: string;
  readonly originalUrl?: string;
}

/** A binding that held: the DPoP proof to record once every other check passed, if any. */
export interface CheckedBinding {
  readonly proof: VerifiedDpopProof | undefined;
}

/** One request's check, shared by every guard call of that request (GraphQL fields, stacked guards). */
interface RequestCheck {
  readonly token: string;
  readonly checked: Promise<CheckedBinding>;
}

const UNBOUND: CheckedBinding = { proof: undefined };

function bindingError(message: string): VoxKeyTokenError {
  return new VoxKeyTokenError('binding', message);
}

/** The one `DPoP` header of a request; several fields, or one holding a list, are refused. */
function dpopHeader(request: BindingRequest): string {
  const value = singleRawHeader(request, 'dpop');
  if (value === 'several' || value?.includes(',')) {
    throw new VoxKeyDpopError('proof', 'several DPoP headers');
  }
  if (value === undefined || value === '') throw new VoxKeyDpopError('proof', 'no DPoP header');
  return value;
}

/**
 * Sender-constrained tokens: checks that a token bound by its `cnf` claim (a JWT's, or an
 * introspection answer's) is used by its holder, on every request (cached verifications
 * included). `cnf.jkt` needs the `DPoP` scheme and a valid proof by that key; `cnf.x5t#S256` a
 * client certificate with that thumbprint (both, when both are present). A bound token sent as
 * `Bearer`, a `DPoP` token that is not bound, a binding this API cannot check and, in
 * `'required'` modes, an unbound token are all refused.
 * @see RFC 9449 §6, §7; RFC 8705 §3; RFC 7800 §3
 */
@Injectable()
export class TokenBinding {
  private readonly nonces: DpopNonces | undefined;
  private readonly replay: DpopReplayCache;
  private readonly policy: DpopProofPolicy;
  private readonly requests = new WeakMap<object, RequestCheck>();
  private readonly consumed = new WeakMap<CheckedBinding, Promise<void>>();

  constructor(
    @Inject(VOXKEY_RESOLVED_OPTIONS) private readonly options: ResolvedVoxKeyOptions,
    state: SharedState,
  ) {
    const { dpop } = options;
    this.nonces = dpop.nonce && new DpopNonces(dpop.nonce.secrets, dpop.nonce.lifetimeSec);
    this.replay = new DpopReplayCache(state.shared ? state.store : undefined, dpop);
    this.policy = {
      algorithms: dpop.algorithms,
      maxAgeSec: dpop.maxAgeSec,
      futureLeewaySec: dpop.futureLeewaySec,
      ...(this.nonces && { acceptsNonce: (nonce: unknown) => this.nonces!.accepts(nonce) }),
    };
  }

  /**
   * Checks the binding of `token` (sent under the `DPoP` scheme when `dpop`) against `request`
   * (undefined outside HTTP, where nothing can prove a binding). Throws `VoxKeyTokenError`
   * (`binding`) or `VoxKeyDpopError`.
   */
  check(
    request: BindingRequest | undefined,
    token: string,
    dpop: boolean,
    cnf: unknown,
  ): Promise<CheckedBinding> {
    // Only a proof needs sharing: every guard call of one request (GraphQL fields, stacked
    // guards) must see the one check, or the second would take the proof for a replay.
    if (request === undefined || !dpop) return this.checkOnce(request, token, dpop, cnf);
    const earlier = this.requests.get(request);
    if (earlier?.token === token) return earlier.checked;
    const checked = this.checkOnce(request, token, dpop, cnf);
    this.requests.set(request, { token, checked });
    return checked;
  }

  /**
   * Records the proof of a check as used, once however many guard calls share the check;
   * throws `VoxKeyDpopError('replay')`.
   */
  consume(binding: CheckedBinding): Promise<void> {
    if (binding.proof === undefined) return Promise.resolve();
    let consumed = this.consumed.get(binding);
    if (consumed === undefined) {
      consumed = this.replay.consume(binding.proof);
      this.consumed.set(binding, consumed);
    }
    return consumed;
  }

  /** A fresh server nonce, when nonces are on. */
  nextNonce(): string | undefined {
    return this.nonces?.issue();
  }

  private async checkOnce(
    request: BindingRequest | undefined,
    token: string,
    dpop: boolean,
    cnf: unknown,
  ): Promise<CheckedBinding> {
    const { jkt, x5t } = this.confirmation(cnf);
    let proof: VerifiedDpopProof | undefined;
    if (dpop) {
      if (jkt === undefined)
        throw bindingError('a token that is not DPoP-bound sent under the DPoP scheme');
      if (request === undefined) throw new VoxKeyDpopError('proof', 'no HTTP request to prove');
      proof = await this.verifyProof(request, token, jkt);
    } else if (jkt !== undefined) {
      throw bindingError('a DPoP-bound token sent as a Bearer token');
    } else if (this.options.dpop.mode === 'required') {
      throw bindingError("a Bearer token where 'dpop.mode' is 'required'");
    }
    const { mtls } = this.options;
    if (x5t !== undefined) {
      if (mtls === undefined)
        throw bindingError("a certificate-bound token and no 'mtls' configured");
      const certificate = request
        ? readClientCertificate(request, mtls.certificate)
        : ({ kind: 'missing' } as const);
      if (certificate.kind === 'missing')
        throw bindingError('a certificate-bound token without a client certificate');
      if (certificate.kind === 'invalid') throw bindingError(certificate.detail);
      if (certificate.thumbprint !== x5t)
        throw bindingError('the client certificate is not the one the token is bound to');
    } else if (mtls?.mode === 'required') {
      throw bindingError("a token that is not certificate-bound where 'mtls.mode' is 'required'");
    }
    return proof === undefined ? UNBOUND : { proof };
  }

  /** The bindings `cnf` names: only `jkt` and `x5t#S256` (other members are ignored, RFC 7800 §3.1). */
  private confirmation(cnf: unknown): { jkt?: string; x5t?: string } {
    if (cnf === undefined) return {};
    if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) {
      throw bindingError('cnf is not an object');
    }
    const { jkt, 'x5t#S256': x5t } = cnf as Record<string, unknown>;
    for (const value of [jkt, x5t]) {
      if (value !== undefined && (typeof value !== 'string' || value === '')) {
        throw bindingError('cnf.jkt or cnf.x5t#S256 is not a non-empty string');
      }
    }
    if (jkt === undefined && x5t === undefined) {
      throw bindingError('cnf names no binding this API can check (jkt, x5t#S256)');
    }
    return { jkt: jkt as string | undefined, x5t: x5t as string | undefined };
  }

  private verifyProof(
    request: BindingRequest,
    token: string,
    jkt: string,
  ): Promise<VerifiedDpopProof> {
    const proof = dpopHeader(request);
    const target = request.originalUrl ?? request.url;
    const htu =
      typeof target === 'string' && this.options.dpop.publicUrl !== undefined
        ? requestHtu(this.options.dpop.publicUrl, target)
        : undefined;
    if (htu === undefined || typeof request.method !== 'string') {
      throw new VoxKeyDpopError('proof', 'the request URI cannot be built from dpop.publicUrl');
    }
    return verifyDpopProof(
      { proof, method: request.method, htu, accessToken: token, jkt },
      this.policy,
    );
  }
}
