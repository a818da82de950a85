/**
 * Linux errno numbers ↔ names, for audit's numeric `exit=-13`. The numbers are the
 * asm-generic ones (include/uapi/asm-generic/errno-base.h + errno.h), which x86, arm,
 * arm64, riscv, s390, powerpc (except EDEADLOCK=58) and loongarch share. MIPS, SPARC, Alpha
 * and PA-RISC number errnos 35+ differently; their audit exits still get asm-generic names
 * (kernel-internal 512+ restart codes are generic everywhere).
 */

/** errno 1..133, in order; `-` marks the two numbers that only carry aliases (41, 58). */
const GENERIC =
  'EPERM ENOENT ESRCH EINTR EIO ENXIO E2BIG ENOEXEC EBADF ECHILD EAGAIN ENOMEM EACCES EFAULT ENOTBLK EBUSY EEXIST EXDEV ENODEV ENOTDIR EISDIR EINVAL ENFILE EMFILE ENOTTY ETXTBSY EFBIG ENOSPC ESPIPE EROFS EMLINK EPIPE EDOM ERANGE EDEADLK ENAMETOOLONG ENOLCK ENOSYS ENOTEMPTY ELOOP - ENOMSG EIDRM ECHRNG EL2NSYNC EL3HLT EL3RST ELNRNG EUNATCH ENOCSI EL2HLT EBADE EBADR EXFULL ENOANO EBADRQC EBADSLT - EBFONT ENOSTR ENODATA ETIME ENOSR ENONET ENOPKG EREMOTE ENOLINK EADV ESRMNT ECOMM EPROTO EMULTIHOP EDOTDOT EBADMSG EOVERFLOW ENOTUNIQ EBADFD EREMCHG ELIBACC ELIBBAD ELIBSCN ELIBMAX ELIBEXEC EILSEQ ERESTART ESTRPIPE EUSERS ENOTSOCK EDESTADDRREQ EMSGSIZE EPROTOTYPE ENOPROTOOPT EPROTONOSUPPORT ESOCKTNOSUPPORT EOPNOTSUPP EPFNOSUPPORT EAFNOSUPPORT EADDRINUSE EADDRNOTAVAIL ENETDOWN ENETUNREACH ENETRESET ECONNABORTED ECONNRESET ENOBUFS EISCONN ENOTCONN ESHUTDOWN ETOOMANYREFS ETIMEDOUT ECONNREFUSED EHOSTDOWN EHOSTUNREACH EALREADY EINPROGRESS ESTALE EUCLEAN ENOTNAM ENAVAIL EISNAM EREMOTEIO EDQUOT ENOMEDIUM EMEDIUMTYPE ECANCELED ENOKEY EKEYEXPIRED EKEYREVOKED EKEYREJECTED EOWNERDEAD ENOTRECOVERABLE ERFKILL EHWPOISON';

/** Kernel-internal codes that leak into audit exits (include/linux/errno.h). */
const INTERNAL: ReadonlyArray<readonly [number, string]> = [
  [512, 'ERESTARTSYS'],
  [513, 'ERESTARTNOINTR'],
  [514, 'ERESTARTNOHAND'],
  [515, 'ENOIOCTLCMD'],
  [516, 'ERESTART_RESTARTBLOCK'],
  [517, 'EPROBE_DEFER'],
  [518, 'EOPENSTALE'],
  [519, 'ENOPARAM'],
];

/** Both directions, built once at load (constant afterwards). */
const byNumber = new Map<number, string>();
const byName = new Map<string, number>();
{
  const names = GENERIC.split(' ');
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (name === '-') continue;
    byNumber.set(i + 1, name);
    byName.set(name, i + 1);
  }
  for (const [nr, name] of INTERNAL) {
    byNumber.set(nr, name);
    byName.set(name, nr);
  }
  byName.set('EWOULDBLOCK', 11);
  byName.set('EDEADLOCK', 35);
  byName.set('ENOTSUP', 95);
}

/** `13` → `EACCES` (positive errno number). */
export function errnoName(nr: number): string | undefined {
  return byNumber.get(nr);
}

/** `EACCES` → `13`. */
export function errnoNumber(name: string): number | undefined {
  return byName.get(name);
}
