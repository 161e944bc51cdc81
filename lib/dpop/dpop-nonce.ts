import { createHmac, timingSafeEqual } from 'node:crypto';

const TIME_BYTES = 8;
const MAC_BYTES = 16;
/** Domain separation: a MAC of this library's nonces is never a MAC of anything else. */
const LABEL = 'voxkey-dpop-nonce\n';
/** A nonce from an instance whose clock is a little ahead is still accepted. */
const CLOCK_SKEW_SEC = 5;

/**
 * Stateless DPoP server nonces: the issue time and an HMAC-SHA-256 tag under the fleet's
 * secret, base64url. Any instance holding the secrets checks any instance's nonces; the first
 * secret signs, every secret verifies, so secrets rotate without a flag day.
 * @see RFC 9449 §8, §8.1 (`1*NQCHAR`), §11.1
 */
export class DpopNonces {
  constructor(
    private readonly secrets: readonly Buffer[],
    private readonly lifetimeSec: number,
  ) {}

  /** A fresh nonce. */
  issue(nowSeconds = Math.floor(Date.now() / 1000)): string {
    const time = Buffer.alloc(TIME_BYTES);
    time.writeBigUInt64BE(BigInt(nowSeconds));
    return Buffer.concat([time, this.tag(this.secrets[0], time)]).toString('base64url');
  }

  /** Whether `nonce` is one of this fleet's, issued within the lifetime. */
  accepts(nonce: unknown, nowSeconds = Math.floor(Date.now() / 1000)): boolean {
    if (typeof nonce !== 'string' || nonce.length !== 32 || !/^[\w-]+$/.test(nonce)) return false;
    const bytes = Buffer.from(nonce, 'base64url');
    const time = bytes.subarray(0, TIME_BYTES);
    const tag = bytes.subarray(TIME_BYTES);
    if (!this.secrets.some((secret) => timingSafeEqual(this.tag(secret, time), tag))) return false;
    const issuedAt = Number(time.readBigUInt64BE());
    return issuedAt > nowSeconds - this.lifetimeSec && issuedAt <= nowSeconds + CLOCK_SKEW_SEC;
  }

  private tag(secret: Buffer, time: Buffer): Buffer {
    return createHmac('sha256', secret).update(LABEL).update(time).digest().subarray(0, MAC_BYTES);
  }
}
