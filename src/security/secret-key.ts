// Where the at-rest encryption key comes from: HANGAR_SECRET_KEY, else <HANGAR_HOME>/secret.key (created with mode 0600 when missing).
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { ConfigError } from '../errors.ts';
import { SECRET_KEY_BYTES, SecretBox } from './secret-box.ts';

export const SECRET_KEY_FILE = 'secret.key';
export const SECRET_KEY_VARIABLE = 'HANGAR_SECRET_KEY';

export interface SecretKeyOptions {
  /** HANGAR_SECRET_KEY as given (environment or .env), and where it was found; undefined when unset. */
  fromEnv?: { value: string; origin: string };
  /** The data directory, where the key file lives when no variable is set. */
  home: string;
}

export interface LoadedSecretBox {
  box: SecretBox;
  /** The key file this start created (log it: it must be backed up with the database), or null. */
  createdFile: string | null;
}

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
// 32 bytes in base64 or base64url: 43 characters, with or without the one "=" of padding.
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}=?$/;

/** 32 bytes from 64 hex characters or base64(url); anything else is a ConfigError that never echoes the value. */
export function parseSecretKey(text: string, origin: string): Buffer {
  const trimmed = text.trim();
  const key = HEX_KEY.test(trimmed) ? Buffer.from(trimmed, 'hex') : BASE64_KEY.test(trimmed) ? Buffer.from(trimmed, 'base64') : null;
  if (!key || key.length !== SECRET_KEY_BYTES) {
    throw new ConfigError(
      `${origin} is not a usable secret key: it must be ${SECRET_KEY_BYTES} bytes written as 64 hex characters or as base64 ` +
        `(make one with: openssl rand -hex 32); got ${trimmed.length} characters`,
    );
  }
  return key;
}

/** Group or other may read or write the file: refused, as ssh refuses a private key anyone can read. */
function checkPrivate(file: string): void {
  if (process.platform === 'win32') return; // POSIX modes say nothing there
  const stat = fs.statSync(file);
  if (!stat.isFile()) throw new ConfigError(`${file} (the secret key) is not a regular file`);
  const mode = stat.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(
      `${file} (the secret key) has mode ${mode.toString(8).padStart(4, '0')}: group and others must have no access. Run: chmod 600 ${file}`,
    );
  }
}

function fsyncDirectory(dir: string): void {
  const handle = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(handle);
  } finally {
    fs.closeSync(handle);
  }
}

/**
 * Writes a new random key to `file` unless one appears there first (another process starting at the same time).
 * The key is written and synced under a temporary name, then hard-linked into place: a reader never sees
 * half a key, and a crash never leaves a key that encrypted something but did not reach the disk.
 */
function createKeyFile(file: string): boolean {
  const tmp = `${file}.${randomUUID()}.tmp`;
  const handle = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(handle, `${randomBytes(SECRET_KEY_BYTES).toString('hex')}\n`);
    fs.fsyncSync(handle);
  } finally {
    fs.closeSync(handle);
  }
  try {
    fs.linkSync(tmp, file);
    fsyncDirectory(path.dirname(file));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** The box for this server: the variable's key when set, else the key file's (made on first start). */
export function loadSecretBox(options: SecretKeyOptions): LoadedSecretBox {
  if (options.fromEnv !== undefined) {
    return { box: new SecretBox(parseSecretKey(options.fromEnv.value, options.fromEnv.origin), options.fromEnv.origin), createdFile: null };
  }
  const file = path.join(options.home, SECRET_KEY_FILE);
  let created = false;
  if (!fs.existsSync(file)) {
    fs.mkdirSync(options.home, { recursive: true });
    created = createKeyFile(file);
  }
  checkPrivate(file);
  const key = parseSecretKey(fs.readFileSync(file, 'utf8'), file);
  return { box: new SecretBox(key, file), createdFile: created ? file : null };
}
