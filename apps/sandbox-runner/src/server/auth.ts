import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SyscanError } from '@syscan/core';

/** Tokens shorter than this are refused: a guessable token is no auth. */
const MIN_TOKEN_CHARS = 16;

/** A client as auth identifies it: a short, non-secret id of its token. */
export interface TokenIdentity {
  id: string;
}

/**
 * Bearer tokens read from a file: one per line (blank lines and `#` comments skipped), so
 * each client can get its own token and its own detector state.
 */
export class TokenAuth {
  readonly #digests: { digest: Buffer; id: string }[];

  constructor(tokens: readonly string[]) {
    this.#digests = tokens.map((t) => {
      const digest = sha256(t);
      return { digest, id: `token:${digest.toString('hex').slice(0, 12)}` };
    });
  }

  static fromFile(file: string): TokenAuth {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new SyscanError(
        'ERR_SYSCAN_CONFIG',
        `cannot read --token-file ${file}: ${(error as NodeJS.ErrnoException).code}`,
      );
    }
    const tokens = text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0 && !l.startsWith('#'));
    if (tokens.length === 0)
      throw new SyscanError('ERR_SYSCAN_CONFIG', `--token-file ${file} holds no token`);
    const short = tokens.findIndex((t) => t.length < MIN_TOKEN_CHARS);
    if (short !== -1) {
      throw new SyscanError(
        'ERR_SYSCAN_CONFIG',
        `--token-file ${file}: token ${short + 1} is shorter than ${MIN_TOKEN_CHARS} characters`,
      );
    }
    return new TokenAuth(tokens);
  }

  /** The identity of an `Authorization` header value, or undefined. Compares digests in constant time. */
  check(header: string | undefined): TokenIdentity | undefined {
    if (!header) return undefined;
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (!m) return undefined;
    const digest = sha256(m[1]!);
    let found: string | undefined;
    // Every token is compared, found or not: the time taken says nothing about which matched.
    for (const t of this.#digests) if (timingSafeEqual(t.digest, digest) && found === undefined) found = t.id;
    return found === undefined ? undefined : { id: found };
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Loopback hosts, where `--no-auth` is allowed. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
