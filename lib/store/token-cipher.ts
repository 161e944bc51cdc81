import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'e1';

/**
 * Seals values kept in a shared store. With a key, AES-256-GCM with a random 96-bit IV, the
 * store key as additional data (a value cannot be moved to another key); without one, values
 * are kept as they are. A value that does not open (other key, tampered, other format) reads
 * as absent, so it is simply fetched again.
 */
export class TokenCipher {
  constructor(private readonly key: Buffer | undefined) {}

  get encrypting(): boolean {
    return this.key !== undefined;
  }

  seal(plaintext: string, storeKey: string): string {
    if (!this.key) return `p.${plaintext}`;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(storeKey));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv, body, cipher.getAuthTag()]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  open(sealed: string, storeKey: string): string | undefined {
    if (!this.key) return sealed.startsWith('p.') ? sealed.slice(2) : undefined;
    const [version, iv, body, tag, extra] = sealed.split('.');
    if (version !== VERSION || !iv || !body || !tag || extra !== undefined) return undefined;
    const ivBytes = Buffer.from(iv, 'base64url');
    const tagBytes = Buffer.from(tag, 'base64url');
    // Full-length IV and tag only: Node would accept tags as short as 4 bytes.
    if (ivBytes.length !== 12 || tagBytes.length !== 16) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, ivBytes, { authTagLength: 16 });
      decipher.setAAD(Buffer.from(storeKey));
      decipher.setAuthTag(tagBytes);
      return Buffer.concat([
        decipher.update(Buffer.from(body, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
