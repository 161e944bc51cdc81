import { KeyObject, type JsonWebKey } from 'node:crypto';
import * as oauth from 'oauth4webapi';

/**
 * A DPoP client made of panva's oauth4webapi (a certified client library, independent of this
 * repository and of the realm): its `generateKeyPair` and `DPoP` handle make the proofs, its
 * client credentials grant gets DPoP-bound tokens, its `protectedResourceRequest` calls the API.
 * Like a real client, it retries once when a server asks for a nonce (`use_dpop_nonce`).
 * @see RFC 9449
 */

/** A client's DPoP key: what oauth4webapi signs with, and the same key for hand-made proofs. */
export interface DpopKey {
  /** The JWS algorithm of its proofs. */
  alg: string;
  /** The key pair, as oauth4webapi made it (extractable). */
  keyPair: oauth.CryptoKeyPair;
  /** The private key as a node:crypto KeyObject, for `buildProof` (dpop-proof.ts). */
  privateKey: KeyObject;
  /** The public JWK its proofs embed. */
  publicJwk: JsonWebKey;
  /** The private JWK (`d`, ...), for proofs that wrongly embed it. */
  privateJwk: JsonWebKey;
  /** Its RFC 7638 SHA-256 thumbprint, as oauth4webapi computes it: the token's `cnf.jkt`. */
  jkt: string;
  /** oauth4webapi's DPoP handle: signs proofs and keeps the last nonce of each origin. */
  handle: oauth.DPoPHandle;
}

/** A client at the realm (client_secret_basic). */
export interface DpopClientCredentials {
  clientId: string;
  clientSecret: string;
}

/** A token response, as the realm sent it. */
export interface DpopTokenResponse {
  accessToken: string;
  /** As the realm spelled it (`DPoP`); oauth4webapi itself lowercases it. */
  tokenType: string;
  expiresIn?: number;
  scope?: string;
  /** Token requests made: 2 when the realm asked for a nonce first. */
  attempts: number;
}

/** The answer of a protected resource to {@link dpopRequest}. */
export interface DpopResourceResponse {
  status: number;
  headers: Headers;
  body: string;
  /** Requests made: 2 when the resource asked for a nonce first. */
  attempts: number;
}

// The realm and the APIs under test listen on plain HTTP on 127.0.0.1.
const insecure = { [oauth.allowInsecureRequests]: true } as const;

/**
 * A new DPoP key from oauth4webapi's `generateKeyPair`.
 * @param alg ES256 (default), ES384, ES512, RS*, PS*, Ed25519 or EdDSA
 */
export async function createDpopKey(
  alg = 'ES256',
  options: Omit<oauth.GenerateKeyPairOptions, 'extractable'> = {},
): Promise<DpopKey> {
  const keyPair = await oauth.generateKeyPair(alg, { ...options, extractable: true });
  const privateKey = KeyObject.from(keyPair.privateKey);
  const handle = oauth.DPoP({}, keyPair);
  return {
    alg,
    keyPair,
    privateKey,
    publicJwk: KeyObject.from(keyPair.publicKey).export({ format: 'jwk' }),
    privateJwk: privateKey.export({ format: 'jwk' }),
    jkt: await handle.calculateThumbprint(),
    handle,
  };
}

/**
 * Gets a DPoP-bound access token with the client credentials grant, the way a client does it:
 * the token endpoint from the realm's discovery document, a proof from `key` on each request.
 * Rejects with oauth4webapi's error when the realm refuses.
 */
export async function requestDpopToken(
  issuer: string,
  client: DpopClientCredentials,
  key: DpopKey,
  parameters: { scope?: string; resource?: string } = {},
): Promise<DpopTokenResponse> {
  const as = await oauth.processDiscoveryResponse(
    new URL(issuer),
    await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oidc', ...insecure }),
  );
  const oauthClient: oauth.Client = { client_id: client.clientId };
  const auth = oauth.ClientSecretBasic(client.clientSecret);
  const params = Object.fromEntries(
    Object.entries(parameters).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  for (let attempts = 1; ; attempts++) {
    const response = await oauth.clientCredentialsGrantRequest(as, oauthClient, auth, params, {
      DPoP: key.handle,
      ...insecure,
    });
    const raw = (await response.clone().json()) as { token_type?: string };
    try {
      const body = await oauth.processClientCredentialsResponse(as, oauthClient, response);
      return {
        accessToken: body.access_token,
        tokenType: String(raw.token_type),
        expiresIn: body.expires_in,
        scope: body.scope,
        attempts,
      };
    } catch (error) {
      if (attempts === 1 && oauth.isDPoPNonceError(error)) continue;
      throw error;
    }
  }
}

/**
 * A request to a protected resource with `Authorization: DPoP <token>` and a proof from `key`
 * (oauth4webapi's protectedResourceRequest). Resolves with every answer, a 401 included; with
 * `retryOnNonce` (the default) a `use_dpop_nonce` challenge is retried once with the new nonce.
 */
export async function dpopRequest(
  url: string,
  accessToken: string,
  key: DpopKey,
  {
    method = 'GET',
    headers,
    body,
    retryOnNonce = true,
  }: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    retryOnNonce?: boolean;
  } = {},
): Promise<DpopResourceResponse> {
  for (let attempts = 1; ; attempts++) {
    let response: Response;
    try {
      response = await oauth.protectedResourceRequest(
        accessToken,
        method,
        new URL(url),
        new Headers(headers),
        body,
        { DPoP: key.handle, ...insecure },
      );
    } catch (error) {
      if (!(error instanceof oauth.WWWAuthenticateChallengeError)) throw error;
      if (retryOnNonce && attempts === 1 && oauth.isDPoPNonceError(error)) continue;
      response = error.response;
    }
    return {
      status: response.status,
      headers: response.headers,
      body: await response.text(),
      attempts,
    };
  }
}
