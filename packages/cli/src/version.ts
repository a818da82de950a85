declare const SYSCAN_VERSION: string | undefined;

/** The package version, put in by the build (tsup `define`); `0.0.0-dev` when run from source. */
export const VERSION: string = typeof SYSCAN_VERSION === 'string' ? SYSCAN_VERSION : '0.0.0-dev';
