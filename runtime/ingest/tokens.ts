// Bearer tokens from a Secret-mounted file: one token per line, or `name: token` lines so that
// rate limits and metrics can tell clients apart. Kubernetes updates mounted Secrets in place, so the
// file is re-read periodically and rotation needs no restart.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../common/errors.js';

interface TokenEntry {
  client: string;
  digest: Buffer;
}

/** Parses the tokens file; anonymous tokens get the names token-1, token-2, ... by line order. */
export function parseTokens(text: string, source: string): TokenEntry[] {
  const entries: TokenEntry[] = [];
  const names = new Set<string>();
  let anonymous = 0;
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) return;
    let client: string;
    let token: string;
    const m = /^([A-Za-z0-9][A-Za-z0-9_.-]*)\s*:\s*(\S+)$/.exec(t);
    if (m) {
      client = m[1]!;
      token = m[2]!;
    } else if (/^\S+$/.test(t)) {
      client = `token-${++anonymous}`;
      token = t;
    } else {
      // The line is not echoed: it may hold a secret.
      throw new ConfigError(`${source}:${i + 1}: expected "<token>" or "<name>: <token>"`);
    }
    if (names.has(client)) throw new ConfigError(`${source}:${i + 1}: client name "${client}" appears twice`);
    names.add(client);
    entries.push({ client, digest: digest(token) });
  });
  return entries;
}

// Comparing fixed-length digests with timingSafeEqual makes the comparison independent of where
// the strings differ and of their lengths.
function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export class TokenStore {
  private entries: TokenEntry[] = [];
  private text = '';

  constructor(private readonly path: string) {}

  /** Reads the file; returns true when its content changed. Throws ConfigError when unreadable. */
  async load(): Promise<boolean> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read tokens file ${this.path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (text === this.text && this.entries.length > 0) return false;
    const entries = parseTokens(text, this.path);
    if (entries.length === 0) throw new ConfigError(`tokens file ${this.path} holds no tokens`);
    this.entries = entries;
    this.text = text;
    return true;
  }

  get size(): number {
    return this.entries.length;
  }

  /** The client name the token belongs to, or undefined. Every entry is compared, match or not. */
  authenticate(token: string): string | undefined {
    const d = digest(token);
    let found: string | undefined;
    for (const e of this.entries) {
      if (timingSafeEqual(e.digest, d) && found === undefined) found = e.client;
    }
    return found;
  }
}

/** The token of an `Authorization: Bearer <token>` value, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}
