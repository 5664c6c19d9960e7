// AES-256-GCM encryption of secrets kept at rest (webhook signing secrets, the hub token in the config file) under one 32-byte key.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export const SECRET_KEY_BYTES = 32;
const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const PREFIX = 'enc:v1:';
const STORED_FORM = /^enc:v1:([A-Za-z0-9_-]{8}):([A-Za-z0-9_-]{16}):([A-Za-z0-9_-]{22}):([A-Za-z0-9_-]*)$/;

/** A stored value that cannot be decrypted: written under another key, damaged, or not in the stored form. */
export class SecretDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretDecryptionError';
  }
}

/**
 * Encrypts and decrypts short secrets. The stored form is
 * `enc:v1:<key id>:<base64url iv>:<base64url tag>:<base64url ciphertext>`; the key id (a 48-bit fingerprint
 * of the key) lets a wrong key be reported as such instead of as damage. `purpose` is authenticated data:
 * a value encrypted as one thing (a webhook secret) does not decrypt as another (the hub token).
 */
export class SecretBox {
  /** Fingerprint of the key, stored with every value. */
  readonly keyId: string;
  /** Where the key came from (`HANGAR_SECRET_KEY in the environment`, the key file's path), for error messages. */
  readonly keySource: string;
  // A true private field: the key never shows in JSON, logs or util.inspect.
  readonly #key: Buffer;

  constructor(key: Buffer, keySource: string) {
    if (key.length !== SECRET_KEY_BYTES) throw new Error(`A secret key is ${SECRET_KEY_BYTES} bytes, got ${key.length}`);
    this.#key = Buffer.from(key);
    this.keySource = keySource;
    this.keyId = SecretBox.fingerprint(key);
  }

  static fingerprint(key: Buffer): string {
    return createHash('sha256').update('hangar secret key id\0').update(key).digest().subarray(0, 6).toString('base64url');
  }

  /** True for a value in the stored form (it may still fail to decrypt). */
  static isEncrypted(value: string): boolean {
    return value.startsWith(PREFIX);
  }

  encrypt(plaintext: string, purpose: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(purpose, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return `${PREFIX}${this.keyId}:${iv.toString('base64url')}:${tag.toString('base64url')}:${ciphertext.toString('base64url')}`;
  }

  /** The plaintext of a stored value; throws SecretDecryptionError naming why it cannot be read. */
  decrypt(stored: string, purpose: string): string {
    const parts = STORED_FORM.exec(stored);
    if (!parts) throw new SecretDecryptionError('The value is not in the encrypted form enc:v1:<key id>:<iv>:<tag>:<ciphertext>');
    const [, keyId = '', iv = '', tag = '', ciphertext = ''] = parts;
    if (keyId !== this.keyId) {
      throw new SecretDecryptionError(
        `The value was encrypted under another key (key id ${keyId}); this server's key (${this.keySource}) has id ${this.keyId}. ` +
          'Start with the key it was written with (HANGAR_SECRET_KEY or the secret.key file), or set the value again',
      );
    }
    try {
      const decipher = createDecipheriv(ALGORITHM, this.#key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(purpose, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretDecryptionError(
        `The value does not authenticate under this server's key (${this.keySource}): it was altered, damaged, or stored for something other than ${purpose}`,
      );
    }
  }
}
