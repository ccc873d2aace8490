/*
 * Corrections to the pinned wasi-libc, linked into python.wasm.
 *
 * python.wasm is linked with `-Wl,--wrap,<function>` for each function below (see
 * setup.flags): every call of <function> from libc's own objects, and from CPython's,
 * lands in `__wrap_<function>` here, which calls the original as `__real_<function>`.
 * A libc without <function> fails the link (an undefined `__real_<function>`), so a
 * toolchain change cannot silently drop a correction.
 *
 * The module object itself is empty; it exists so that CPython's Modules/Setup
 * machinery compiles and links this file.
 */
#include "Python.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <wasi/wasip2.h>

/* --- host names that are not UTF-8 ----------------------------------------------
 *
 * wasi-libc hands a host name to the host as a component-model `string`, which must
 * be valid UTF-8: the canonical ABI's lift of anything else is a trap that kills the
 * whole interpreter ("invalid utf-8 sequence"). A name that is not UTF-8 names no
 * host, so the lookup fails as "no such name" before it reaches the host. (Paths need
 * no guard: this libc checks them itself and fails with EILSEQ.)
 *
 * Strict UTF-8 as the component model requires: no overlong forms, no surrogates
 * (U+D800..U+DFFF, which surrogateescape/surrogatepass produce), nothing past
 * U+10FFFF. */
static int
is_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned char c = *p;
        if (c < 0x80) {
            p += 1;
            continue;
        }
        int n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        }
        else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        }
        else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        }
        else {
            return 0;
        }
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80) {
                return 0;  /* also stops at the terminating NUL */
            }
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)
            || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
            return 0;
        }
        p += n + 1;
    }
    return 1;
}

int __real_getaddrinfo(const char *, const char *, const struct addrinfo *,
                       struct addrinfo **);
int
__wrap_getaddrinfo(const char *node, const char *service,
                   const struct addrinfo *hints, struct addrinfo **res)
{
    if ((node != NULL && !is_utf8(node)) || (service != NULL && !is_utf8(service))) {
        return EAI_NONAME;
    }
    return __real_getaddrinfo(node, service, hints, res);
}

/* --- a socket the host no longer has connected ------------------------------------
 *
 * wasi-libc maps each WASI socket error code to an errno here, and calls abort() for
 * `invalid-state`, which it assumes its own state checks rule out. The host returns
 * it anyway when the operating system's socket is no longer connected while libc
 * still thinks it is: getpeername() after the peer reset the connection reaches the
 * host's getpeername(2), which fails with ENOTCONN, which WASI reports as
 * `invalid-state` (wasi:sockets documents it as ENOTCONN for remote-address and
 * shutdown). So that is what a program sees: an OSError in Python, not a trap. */
int __real___wasilibc_map_socket_error(network_error_code_t *error);
int
__wrap___wasilibc_map_socket_error(network_error_code_t *error)
{
    if (*error == NETWORK_ERROR_CODE_INVALID_STATE) {
        return ENOTCONN;
    }
    return __real___wasilibc_map_socket_error(error);
}

/* --- a connection the peer reset ------------------------------------------------
 *
 * A connected TCP socket's data moves through the pair of wasi:io streams its connect
 * or accept returned. When the host's recv(2) or send(2) fails, the stream reports
 * `last-operation-failed` with an opaque wasi:io `error` resource; the socket error
 * code is behind it, reachable only through wasi:sockets/network's
 * `network-error-code(error)`. WASI 0.2.0, the WIT this libc is built against, has no
 * such function (later 0.2.x WITs have it, still @unstable), so libc drops the
 * resource and sets EIO for every stream failure (wasip2_handle_read_error and
 * wasip2_handle_write_error in its file_utils.h). Python then raises OSError(EIO),
 * which `except ConnectionError` does not catch, where a POSIX system raises
 * ConnectionResetError.
 *
 * On a connected TCP stream, a failed recv or send of the host means the connection
 * is lost: the peer reset it (ECONNRESET, by far the most common), or the kernel gave
 * up on it (ETIMEDOUT, an ICMP unreachable). The host's EPIPE is not among them:
 * wasmtime reports it as the stream's `closed`, which libc already makes EPIPE.
 * Whatever the cause, the connection is gone for good, which ECONNRESET says and EIO
 * does not. So an EIO on a stream socket becomes ECONNRESET in recv(), send(), read(),
 * readv() and write() (this libc's writev() calls write(), which the link routes here
 * too); files and stdio keep their EIO. Costs an fstat and a getsockopt, only after
 * an EIO. */
static void
eio_on_socket_is_reset(int fd)
{
    if (errno != EIO) {
        return;
    }
    struct stat st;
    int type = 0;
    socklen_t len = sizeof type;
    if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)
        && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0
        && type == SOCK_STREAM) {
        errno = ECONNRESET;
    }
    else {
        errno = EIO;  /* fstat or getsockopt may have set their own */
    }
}

ssize_t __real_write(int, const void *, size_t);
ssize_t
__wrap_write(int fd, const void *buf, size_t count)
{
    ssize_t n = __real_write(fd, buf, count);
    if (n < 0) {
        eio_on_socket_is_reset(fd);
    }
    return n;
}

/* --- a read at the end of a file that has grown since -----------------------------
 *
 * wasi-libc reads a file through one WASI input stream per descriptor, opened at the
 * descriptor's offset and kept until a seek moves the offset. A stream that reached
 * the end of the file is finished for good: once a read returned 0, every later read
 * returns 0 too, even after another descriptor (or another connection of SQLite, which
 * reads with lseek + read) wrote past that point, and a seek to the same offset keeps
 * the finished stream. POSIX reads what is there.
 *
 * So when a read of a regular file returns 0 although the offset is before the file's
 * end, the stream is stale: moving the offset away and back makes libc drop it, and
 * the read is done again on a fresh one. This costs an fstat and two seeks only on a
 * read that returned 0. */
static int
drop_stale_stream(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        return 0;
    }
    off_t pos = lseek(fd, 0, SEEK_CUR);
    if (pos < 0 || pos >= st.st_size) {
        return 0;  /* a true end of file */
    }
    if (lseek(fd, pos + 1, SEEK_SET) < 0 || lseek(fd, pos, SEEK_SET) != pos) {
        return 0;
    }
    return 1;
}

ssize_t __real_read(int, void *, size_t);
ssize_t
__wrap_read(int fd, void *buf, size_t count)
{
    ssize_t n = __real_read(fd, buf, count);
    if (n == 0 && count > 0 && drop_stale_stream(fd)) {
        n = __real_read(fd, buf, count);
    }
    if (n < 0) {
        eio_on_socket_is_reset(fd);
    }
    return n;
}

ssize_t __real_readv(int, const struct iovec *, int);
ssize_t
__wrap_readv(int fd, const struct iovec *iov, int iovcnt)
{
    ssize_t n = __real_readv(fd, iov, iovcnt);
    if (n == 0) {
        size_t wanted = 0;
        for (int i = 0; i < iovcnt; i++) {
            wanted += iov[i].iov_len;
        }
        if (wanted > 0 && drop_stale_stream(fd)) {
            n = __real_readv(fd, iov, iovcnt);
        }
    }
    if (n < 0) {
        eio_on_socket_is_reset(fd);
    }
    return n;
}

/* --- a socket whose connect is still in progress ------------------------------------
 *
 * After a non-blocking connect(), wasi-libc keeps the socket in its "connecting" state
 * until a poll() sees the connection complete; until then recv(), send() and
 * getpeername() fail with ENOTCONN, also once the socket was made blocking again and
 * the connection is long established. CPython's socket.socketpair() on WASI is built
 * exactly that way (a non-blocking connect to a loopback listener, then blocking use:
 * CPython gh-146139), and so is every asyncio event loop's self-pipe.
 *
 * So an ENOTCONN on a socket libc still calls connecting (SO_ERROR is EINPROGRESS)
 * lets poll() finish the connect and retries: a blocking socket waits for it, as
 * POSIX's recv()/send() would; a non-blocking one looks without waiting and reports
 * EAGAIN while the connection is still being made; getpeername() also looks without
 * waiting and keeps ENOTCONN while it is. */
/* After a call on `fd` failed with ENOTCONN: 1 when the caller should retry it (libc
 * has just seen the connect complete, or fail), else 0 with errno set: ENOTCONN for a
 * socket that is not connecting, EAGAIN for a non-blocking one still connecting
 * (`may_wait`), ENOTCONN for that when the caller must not wait (getpeername). */
static int
connected_now(int fd, int may_wait)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != EINPROGRESS) {
        errno = ENOTCONN;
        return 0;
    }
    int flags = fcntl(fd, F_GETFL);
    int wait = may_wait && flags >= 0 && !(flags & O_NONBLOCK);
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int n = poll(&p, 1, wait ? -1 : 0);
    if (n > 0) {
        return 1;
    }
    errno = (n == 0 && may_wait) ? EAGAIN : ENOTCONN;
    return 0;
}

ssize_t __real_recv(int, void *, size_t, int);
ssize_t
__wrap_recv(int fd, void *buf, size_t len, int flags)
{
    ssize_t n = __real_recv(fd, buf, len, flags);
    if (n < 0 && errno == ENOTCONN && connected_now(fd, 1)) {
        n = __real_recv(fd, buf, len, flags);
    }
    if (n < 0) {
        eio_on_socket_is_reset(fd);
    }
    return n;
}

ssize_t __real_send(int, const void *, size_t, int);
ssize_t
__wrap_send(int fd, const void *buf, size_t len, int flags)
{
    ssize_t n = __real_send(fd, buf, len, flags);
    if (n < 0 && errno == ENOTCONN && connected_now(fd, 1)) {
        n = __real_send(fd, buf, len, flags);
    }
    if (n < 0) {
        eio_on_socket_is_reset(fd);
    }
    return n;
}

int __real_getpeername(int, struct sockaddr *, socklen_t *);
int
__wrap_getpeername(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
    socklen_t given = *addrlen;
    int r = __real_getpeername(fd, addr, addrlen);
    if (r < 0 && errno == ENOTCONN && connected_now(fd, 0)) {
        *addrlen = given;
        r = __real_getpeername(fd, addr, addrlen);
    }
    return r;
}

/* --- the host's working directory ------------------------------------------------
 *
 * wasi-libc keeps the working directory itself and starts every instance at "/"
 * without asking the host for `wasi:cli/environment`'s initial-cwd, so a host has no
 * way to start the guest anywhere else (pylon-launch's --cwd). This constructor enters
 * the host's directory before main. Constructors run again each time `run` starts, so
 * a startup snapshot (which captured the initialising run's "/") enters the resumed
 * run's own directory too, before CPython's main reads its configuration.
 *
 * A directory the guest cannot enter ends the run, saying why, with a failure status
 * (_Exit(2); WASI 0.2.0's exit carries only success or failure, which pylon-launch
 * reports as 1): running somewhere other than where the host asked would read and
 * write the wrong files. */
__attribute__((constructor))
static void
enter_initial_cwd(void)
{
    wasip2_string_t given;
    if (!environment_initial_cwd(&given)) {
        return;
    }
    const char *why = NULL;
    char *path = NULL;
    if (given.len == 0) {
        why = "it is empty";
    }
    else if (memchr(given.ptr, '\0', given.len) != NULL) {
        why = "it holds a NUL byte";
    }
    else if ((path = strndup((const char *)given.ptr, given.len)) == NULL) {
        why = "out of memory";
    }
    else if (chdir(path) != 0) {
        why = strerror(errno);
    }
    if (why != NULL) {
        fprintf(stderr, "pylon: cannot enter the working directory `%.*s` the host gave: %s\n",
                (int)given.len, (const char *)given.ptr, why);
        fflush(stderr);
        _Exit(2);
    }
    free(path);
    wasip2_string_free(&given);
}

static struct PyModuleDef wasi_libc_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_pylon_wasi_libc",
    .m_doc = "Links Pylon's corrections to wasi-libc: host names that are not UTF-8 "
             "fail the lookup instead of trapping; a socket the host reports as no "
             "longer connected gives ENOTCONN instead of an abort; a read of a file "
             "that grew after a read reached its end sees the new data; a socket "
             "whose non-blocking connect completed works once made blocking; a "
             "connection the peer reset fails with ECONNRESET instead of EIO; the "
             "host's initial working directory is entered before main. "
             "Nothing to call.",
    .m_size = 0,
};

PyMODINIT_FUNC
PyInit__pylon_wasi_libc(void)
{
    return PyModuleDef_Init(&wasi_libc_module);
}
