import { VoxKeyConfigError } from '../errors/voxkey.errors.js';
import type {
  ResolvedDpop,
  ResolvedResource,
} from '../interfaces/resolved-voxkey-options.interface.js';
import type {
  VoxKeyAlgorithm,
  VoxKeyDpopOptions,
} from '../interfaces/voxkey-module-options.interface.js';
import { isLoopback } from '../realm/realm-options.js';
import { SUPPORTED_ALGORITHMS } from '../voxkey.constants.js';

const MODES = ['off', 'allowed', 'required'] as const;
/** The shortest nonce secret: an HMAC-SHA-256 key of full strength. */
const MIN_SECRET_BYTES = 32;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function seconds(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new VoxKeyConfigError(
      `'${name}' must be a whole number of seconds from ${min} to ${max}`,
    );
  }
  return value;
}

/** `dpop.publicUrl`: an absolute https URL (http for loopback), no query, fragment or credentials. */
function resolvePublicUrl(value: unknown): string {
  if (typeof value !== 'string' || !URL.canParse(value)) {
    throw new VoxKeyConfigError(
      `'dpop.publicUrl' must be an absolute URL such as https://api.example.com`,
    );
  }
  const url = new URL(value);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    throw new VoxKeyConfigError(
      `'dpop.publicUrl' must use https; plain http is only allowed for loopback hosts`,
    );
  }
  if (url.search !== '' || url.hash !== '' || value.includes('?') || value.includes('#')) {
    throw new VoxKeyConfigError(`'dpop.publicUrl' must not have a query or a fragment`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new VoxKeyConfigError(`'dpop.publicUrl' must not hold credentials`);
  }
  return `${url.origin}${url.pathname.replace(/\/$/, '')}`;
}

/** The origin every configured resource shares, if they share one. */
function resourcesOrigin(resources: readonly ResolvedResource[]): string | undefined {
  const origins = new Set(resources.map((r) => new URL(r.resource).origin));
  return origins.size === 1 ? [...origins][0] : undefined;
}

function resolveSecrets(value: unknown): Buffer[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new VoxKeyConfigError(
      `'dpop.nonce.secrets' must be a non-empty list of secrets (the first signs new nonces)`,
    );
  }
  return value.map((secret: unknown, i) => {
    const bytes =
      typeof secret === 'string'
        ? Buffer.from(secret, 'utf8')
        : Buffer.isBuffer(secret)
          ? secret
          : undefined;
    if (bytes === undefined || bytes.length < MIN_SECRET_BYTES) {
      throw new VoxKeyConfigError(
        `'dpop.nonce.secrets[${i}]' must be a string or Buffer of at least ${MIN_SECRET_BYTES} bytes (e.g. openssl rand -base64 32)`,
      );
    }
    return Buffer.from(bytes);
  });
}

/**
 * `dpop`, validated. The mode defaults to `'allowed'` when the public URL proofs are checked
 * against is known (`publicUrl`, or the one origin of the configured resources), else to `'off'`;
 * naming `'allowed'` or `'required'` without a known public URL is a start-up error.
 * @see RFC 9449 §4.3, §8, §11.1
 */
export function resolveDpop(
  given: VoxKeyDpopOptions | undefined,
  resources: readonly ResolvedResource[],
): ResolvedDpop {
  if (given !== undefined && !isObject(given))
    throw new VoxKeyConfigError(`'dpop' must be an object`);
  const options = (given ?? {}) as Record<string, unknown>;
  const mode = options.mode;
  if (mode !== undefined && !(MODES as readonly unknown[]).includes(mode)) {
    throw new VoxKeyConfigError(
      `'dpop.mode' must be one of ${MODES.map((m) => `'${m}'`).join(', ')}`,
    );
  }
  const publicUrl =
    options.publicUrl !== undefined
      ? resolvePublicUrl(options.publicUrl)
      : resourcesOrigin(resources);
  if (publicUrl === undefined && (mode === 'allowed' || mode === 'required')) {
    throw new VoxKeyConfigError(
      `'dpop.mode' '${mode}' needs 'dpop.publicUrl' (this API's public URL, which proofs name in 'htu'), or resources that share one origin`,
    );
  }
  let algorithms: readonly VoxKeyAlgorithm[] = SUPPORTED_ALGORITHMS;
  if (options.algorithms !== undefined) {
    if (!Array.isArray(options.algorithms) || options.algorithms.length === 0) {
      throw new VoxKeyConfigError(`'dpop.algorithms' must be a non-empty list such as ['ES256']`);
    }
    const unknown = options.algorithms.find(
      (alg: unknown) => !(SUPPORTED_ALGORITHMS as readonly unknown[]).includes(alg),
    );
    if (unknown !== undefined) {
      throw new VoxKeyConfigError(
        `'dpop.algorithms' contains '${String(unknown)}'; supported (asymmetric only): ${SUPPORTED_ALGORITHMS.join(', ')}`,
      );
    }
    algorithms = [...new Set(options.algorithms as VoxKeyAlgorithm[])];
  }
  let nonce: ResolvedDpop['nonce'];
  if (options.nonce !== undefined) {
    if (!isObject(options.nonce)) throw new VoxKeyConfigError(`'dpop.nonce' must be an object`);
    nonce = Object.freeze({
      secrets: Object.freeze(resolveSecrets(options.nonce.secrets)),
      lifetimeSec: seconds(options.nonce.lifetimeSec, 'dpop.nonce.lifetimeSec', 300, 10, 3600),
    });
  }
  const replay = options.replay ?? {};
  if (!isObject(replay)) throw new VoxKeyConfigError(`'dpop.replay' must be an object`);
  const onStoreDown = replay.onStoreDown ?? 'local';
  if (onStoreDown !== 'local' && onStoreDown !== 'reject') {
    throw new VoxKeyConfigError(`'dpop.replay.onStoreDown' must be 'local' or 'reject'`);
  }
  return Object.freeze({
    mode:
      (mode as ResolvedDpop['mode'] | undefined) ?? (publicUrl === undefined ? 'off' : 'allowed'),
    publicUrl,
    algorithms: Object.freeze([...algorithms]),
    maxAgeSec: seconds(options.maxAgeSec, 'dpop.maxAgeSec', 300, 1, 3600),
    futureLeewaySec: seconds(options.futureLeewaySec, 'dpop.futureLeewaySec', 30, 0, 300),
    nonce,
    replay: Object.freeze({ onStoreDown }),
  });
}
