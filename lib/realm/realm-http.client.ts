import { Inject, Injectable } from '@nestjs/common';
import { VoxKeyOAuthError } from '../errors/voxkey.errors.js';
import { boundedErrorCode } from '../errors/voxkey.errors.js';
import type { ResolvedVoxKeyOptions } from '../interfaces/resolved-voxkey-options.interface.js';
import {
  BodyTooLargeError,
  isAbort,
  parseRetryAfter,
  readCappedText,
} from '../utils/http-body.util.js';
import { VOXKEY_RESOLVED_OPTIONS } from '../voxkey.constants.js';
import type { VoxKeyEndpoints } from './realm-endpoints.js';

/** The realm endpoints the services call. */
export type RealmEndpoint = 'token' | 'introspection' | 'revocation';

/** A client's credentials at the realm. */
export interface ClientCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** A successful (2xx) answer: the JSON object it carried, if any. */
export interface RealmResponse {
  readonly status: number;
  readonly body: Record<string, unknown> | undefined;
}

/** How the last call to one of a realm's endpoints ended. */
export interface RealmCallOutcome {
  /** When it ended (ms since the epoch). */
  readonly at: number;
  /** Undefined for a success; else the `VoxKeyOAuthError`'s `error` (an OAuth or transport code). */
  readonly error: string | undefined;
}

/** Largest answer read from a realm endpoint, in bytes. */
const MAX_RESPONSE_BYTES = 64 * 1024;
/** Longest server-provided error description kept. */
const MAX_DESCRIPTION_LENGTH = 500;
/** OAuth error codes: NQSCHAR without the space. @see RFC 6749 §5.2 */
const ERROR_CODE = /^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/;

/** application/x-www-form-urlencoded encoding of one value. @see RFC 6749 Appendix B */
export function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/**
 * `Authorization` value for client_secret_basic: id and secret are form-encoded before they are
 * joined and base64-encoded, so `:`, `%`, `+`, spaces and non-ASCII survive.
 * @see RFC 6749 §2.3.1
 */
export function basicAuthorization({ clientId, clientSecret }: ClientCredentials): string {
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The one small HTTP client the services use to talk to the realm: Node's fetch, form-encoded
 * POSTs, client authentication, a timeout covering the body, a size cap, no redirects, JSON
 * shape checks, and OAuth error bodies turned into `VoxKeyOAuthError`s. Error messages never
 * contain the request's token or secret.
 */
@Injectable()
export class RealmHttpClient {
  /** The last outcome of each endpoint, per realm (gone with a realm `realmsProvider` dropped). */
  private readonly outcomes = new WeakMap<
    VoxKeyEndpoints,
    Partial<Record<RealmEndpoint, RealmCallOutcome>>
  >();

  constructor(@Inject(VOXKEY_RESOLVED_OPTIONS) private readonly options: ResolvedVoxKeyOptions) {}

  /** How the last call to this endpoint of the realm whose `endpoints` are given ended, if any. */
  lastOutcome(endpoints: VoxKeyEndpoints, endpoint: RealmEndpoint): RealmCallOutcome | undefined {
    return this.outcomes.get(endpoints)?.[endpoint];
  }

  /**
   * POSTs `params` to an endpoint of the realm whose `endpoints` are given, authenticated as `credentials`. With `ignoreBody` any
   * 2xx is a success whatever its body; `signal` aborts the request early.
   */
  async post(
    endpoints: VoxKeyEndpoints,
    endpoint: RealmEndpoint,
    params: Record<string, string>,
    credentials: ClientCredentials,
    options: { ignoreBody?: boolean; signal?: AbortSignal } = {},
  ): Promise<RealmResponse> {
    let error: string | undefined;
    try {
      return await this.send(endpoints, endpoint, params, credentials, options);
    } catch (failure) {
      error = boundedErrorCode(failure);
      throw failure;
    } finally {
      const outcomes = this.outcomes.get(endpoints) ?? {};
      outcomes[endpoint] = { at: Date.now(), error };
      this.outcomes.set(endpoints, outcomes);
    }
  }

  private async send(
    endpoints: VoxKeyEndpoints,
    endpoint: RealmEndpoint,
    params: Record<string, string>,
    credentials: ClientCredentials,
    { ignoreBody = false, signal }: { ignoreBody?: boolean; signal?: AbortSignal },
  ): Promise<RealmResponse> {
    const url = {
      token: endpoints.tokenEndpoint,
      introspection: endpoints.introspectionEndpoint,
      revocation: endpoints.revocationEndpoint,
    }[endpoint];
    const body = new URLSearchParams(params);
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (this.options.clientAuthMethod === 'client_secret_post') {
      body.set('client_id', credentials.clientId);
      body.set('client_secret', credentials.clientSecret);
    } else {
      headers.authorization = basicAuthorization(credentials);
    }

    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      text = await readCappedText(response, MAX_RESPONSE_BYTES);
    } catch (cause) {
      const timedOut = isAbort(cause);
      if (cause instanceof BodyTooLargeError) {
        throw new VoxKeyOAuthError('invalid_response', {
          endpoint,
          status: 0,
          retryable: false,
          cause,
        });
      }
      throw new VoxKeyOAuthError(timedOut ? 'timeout' : 'network_error', {
        endpoint,
        status: 0,
        retryable: true,
        cause: timedOut ? undefined : cause,
      });
    } finally {
      // Node 20's AbortSignal.any holds its inputs weakly: a collected timeout signal never fires.
      void timeout.aborted;
    }

    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = null;
    }
    const { status } = response;
    if (status >= 200 && status < 300) {
      if (ignoreBody) return { status, body: undefined };
      if (json === null || (json !== undefined && !isObject(json))) {
        throw new VoxKeyOAuthError('invalid_response', { endpoint, status, retryable: false });
      }
      return { status, body: json };
    }
    const retryable = status === 429 || status >= 500;
    const answer = isObject(json) ? json : {};
    const error =
      typeof answer.error === 'string' && ERROR_CODE.test(answer.error)
        ? answer.error
        : 'http_error';
    throw new VoxKeyOAuthError(error, {
      endpoint,
      status,
      retryable,
      retryAfter: parseRetryAfter(response.headers.get('retry-after')),
      errorDescription:
        typeof answer.error_description === 'string'
          ? answer.error_description.slice(0, MAX_DESCRIPTION_LENGTH)
          : undefined,
    });
  }
}
