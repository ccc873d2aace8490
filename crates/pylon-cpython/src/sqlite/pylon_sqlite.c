/* The one compilation unit of SQLite in python.wasm: the amalgamation, with its
 * POSIX-lock calls routed to the function below.
 *
 * WASI has no advisory file locks: wasi-libc's fcntl() fails F_GETLK/F_SETLK/F_SETLKW
 * with EINVAL, which SQLite reports as a disk I/O error (and its WASI default, the
 * dot-file VFS, says "database is locked" as soon as one connection reads while another
 * writes). A guest is one process, and SQLite's "unix" VFS already arbitrates between
 * the connections of one process itself (its per-file lock table, because POSIX locks
 * are per process); it only asks the kernel to settle conflicts with *other* processes.
 * There are none it could see here, so every process-level lock is granted and F_GETLK
 * reports the range as free. Consequence, documented in docs/sqlite.md: connections
 * inside pylon.wasm lock each other exactly as on Linux; a program outside the guest
 * writing the same database file at the same time is not locked out.
 *
 * The lock commands and F_UNLCK are SQLite's own definitions (its SQLITE_WASI block
 * defines them, wasi-libc does not), so this code and SQLite cannot disagree on them. */
#define fcntl pylon_sqlite_fcntl
#include "sqlite3.c"
#undef fcntl

/* wasi-libc's fcntl: the define above renamed its declaration in <fcntl.h>. */
int fcntl(int fd, int cmd, ...);

int pylon_sqlite_fcntl(int fd, int cmd, ...) {
    va_list ap;
    va_start(ap, cmd);
    if (cmd == F_GETLK || cmd == F_SETLK || cmd == F_SETLKW) {
        struct flock *lock = va_arg(ap, struct flock *);
        va_end(ap);
        if (lock == 0) {
            errno = EFAULT;
            return -1;
        }
        if (cmd == F_GETLK) {
            lock->l_type = F_UNLCK;
        }
        return 0;
    }
    /* SQLite passes an int for every other command it uses (F_GETFD, F_SETFD, ...). */
    int arg = va_arg(ap, int);
    va_end(ap);
    return fcntl(fd, cmd, arg);
}
