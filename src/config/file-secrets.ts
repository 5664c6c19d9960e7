// Secrets in the config file: encrypted when the config API writes the file, decrypted when it is read; hand-written clear text still reads.
import { ConfigError } from '../errors.ts';
import { SecretBox, SecretDecryptionError } from '../security/secret-box.ts';
import type { JsonObject } from './load-config.ts';

/**
 * The settings the config file holds encrypted: the hub token and the bootstrap admin key, credentials
 * only the server uses. database_url stays as written: `hangar keys --local` opens the database from the
 * file without the server's key.
 */
export const FILE_ENCRYPTED_SETTINGS = ['hf_token', 'hangar_admin_key'] as const;

/** Authenticated with the value, so a ciphertext moved to another key of the file does not decrypt. */
const purposeOf = (key: string) => `config:${key}`;

/** The file's values with encrypted secrets in clear text; a value that cannot be decrypted stops start-up. */
export function decryptFileSecrets(file: JsonObject, box: SecretBox, configFile: string): JsonObject {
  const out: JsonObject = { ...file };
  for (const key of FILE_ENCRYPTED_SETTINGS) {
    const value = out[key];
    if (typeof value !== 'string' || !SecretBox.isEncrypted(value)) continue;
    try {
      out[key] = box.decrypt(value, purposeOf(key));
    } catch (error) {
      if (!(error instanceof SecretDecryptionError)) throw error;
      throw new ConfigError(`Invalid configuration file ${configFile}: ${key} cannot be decrypted. ${error.message}`);
    }
  }
  return out;
}

/** The file's values as they are written: every non-empty secret encrypted. */
export function encryptFileSecrets(file: JsonObject, box: SecretBox): JsonObject {
  const out: JsonObject = { ...file };
  for (const key of FILE_ENCRYPTED_SETTINGS) {
    const value = out[key];
    // In memory the layer is always clear text (decryptFileSecrets ran on it), so every value is encrypted here.
    if (typeof value === 'string' && value !== '') out[key] = box.encrypt(value, purposeOf(key));
  }
  return out;
}
