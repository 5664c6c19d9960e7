// HTTPS for the listeners: HANGAR_TLS_CERT and HANGAR_TLS_KEY read and checked once at start-up, with errors that name the file.
import fs from 'node:fs';
import tls from 'node:tls';
import type { HangarConfig } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';

/** PEM certificate (chain) and private key, as read from the configured files. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

function readPem(variable: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new ConfigError(`${variable} = ${JSON.stringify(file)}: the file cannot be read (${code ?? message})`);
  }
}

/**
 * The certificate and key when both are set, null when neither is (configuration validation refuses one
 * without the other). A pair that does not make a TLS context (not PEM, the key not matching the
 * certificate) stops start-up here rather than at the first connection.
 */
export function loadTlsMaterial(config: Pick<HangarConfig, 'hangar_tls_cert' | 'hangar_tls_key'>): TlsMaterial | null {
  if (!config.hangar_tls_cert && !config.hangar_tls_key) return null;
  if (!config.hangar_tls_cert || !config.hangar_tls_key) {
    throw new ConfigError('HANGAR_TLS_CERT and HANGAR_TLS_KEY go together: HTTPS needs both the certificate and its private key');
  }
  const material = { cert: readPem('HANGAR_TLS_CERT', config.hangar_tls_cert), key: readPem('HANGAR_TLS_KEY', config.hangar_tls_key) };
  try {
    tls.createSecureContext(material);
  } catch (error) {
    throw new ConfigError(
      `HANGAR_TLS_CERT (${config.hangar_tls_cert}) and HANGAR_TLS_KEY (${config.hangar_tls_key}) are not a usable certificate and key: ${(error as Error).message}`,
    );
  }
  return material;
}
