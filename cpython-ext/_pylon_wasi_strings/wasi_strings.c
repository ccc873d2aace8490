/*
 * Keeps strings that are not UTF-8 from reaching the WASI host.
 *
 * Under wasm32-wasip2, wasi-libc hands every path (and every host name it looks up)
 * to the host as a component-model `string`, which must be valid UTF-8: the
 * canonical ABI's lift of anything else is a trap that kills the whole interpreter
 * ("invalid utf-8 sequence"). POSIX code, CPython's included, passes arbitrary
 * bytes as file names (`os.stat(b"\xff")`, surrogate-escaped `str` paths), and
 * expects an error, not death.
 *
 * python.wasm is linked with `-Wl,--wrap=<function>` for each libc entry point
 * below (see the profiles' ldflags): libc's own calls then land here, and a name
 * that is not UTF-8 fails the way a name the filesystem cannot hold does --
 * EILSEQ ("Illegal byte sequence"), an OSError in Python -- or, for a host name,
 * as "no such name". Everything valid goes to the real function unchanged.
 *
 * The module object itself is empty; it exists so that CPython's Modules/Setup
 * machinery compiles and links this file.
 */
#include "Python.h"

#include <netdb.h>
#include <stdint.h>
#include <wasi/api.h>

/* Strict UTF-8 as the component model requires: no overlong forms, no surrogates
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

#define GUARD(path) \
    do { \
        if ((path) != NULL && !is_utf8(path)) { \
            return __WASI_ERRNO_ILSEQ; \
        } \
    } while (0)

__wasi_errno_t __real___wasi_path_create_directory(__wasi_fd_t, const char *);
__wasi_errno_t
__wrap___wasi_path_create_directory(__wasi_fd_t fd, const char *path)
{
    GUARD(path);
    return __real___wasi_path_create_directory(fd, path);
}

__wasi_errno_t __real___wasi_path_filestat_get(__wasi_fd_t, __wasi_lookupflags_t,
                                               const char *, __wasi_filestat_t *);
__wasi_errno_t
__wrap___wasi_path_filestat_get(__wasi_fd_t fd, __wasi_lookupflags_t flags,
                                const char *path, __wasi_filestat_t *out)
{
    GUARD(path);
    return __real___wasi_path_filestat_get(fd, flags, path, out);
}

__wasi_errno_t __real___wasi_path_filestat_set_times(
    __wasi_fd_t, __wasi_lookupflags_t, const char *, __wasi_timestamp_t,
    __wasi_timestamp_t, __wasi_fstflags_t);
__wasi_errno_t
__wrap___wasi_path_filestat_set_times(__wasi_fd_t fd, __wasi_lookupflags_t flags,
                                      const char *path, __wasi_timestamp_t atim,
                                      __wasi_timestamp_t mtim,
                                      __wasi_fstflags_t fst_flags)
{
    GUARD(path);
    return __real___wasi_path_filestat_set_times(fd, flags, path, atim, mtim,
                                                 fst_flags);
}

__wasi_errno_t __real___wasi_path_link(__wasi_fd_t, __wasi_lookupflags_t,
                                       const char *, __wasi_fd_t, const char *);
__wasi_errno_t
__wrap___wasi_path_link(__wasi_fd_t old_fd, __wasi_lookupflags_t old_flags,
                        const char *old_path, __wasi_fd_t new_fd,
                        const char *new_path)
{
    GUARD(old_path);
    GUARD(new_path);
    return __real___wasi_path_link(old_fd, old_flags, old_path, new_fd, new_path);
}

__wasi_errno_t __real___wasi_path_open(__wasi_fd_t, __wasi_lookupflags_t,
                                       const char *, __wasi_oflags_t,
                                       __wasi_rights_t, __wasi_rights_t,
                                       __wasi_fdflags_t, __wasi_fd_t *);
__wasi_errno_t
__wrap___wasi_path_open(__wasi_fd_t fd, __wasi_lookupflags_t dirflags,
                        const char *path, __wasi_oflags_t oflags,
                        __wasi_rights_t base, __wasi_rights_t inheriting,
                        __wasi_fdflags_t fdflags, __wasi_fd_t *out)
{
    GUARD(path);
    return __real___wasi_path_open(fd, dirflags, path, oflags, base, inheriting,
                                   fdflags, out);
}

__wasi_errno_t __real___wasi_path_readlink(__wasi_fd_t, const char *, uint8_t *,
                                           __wasi_size_t, __wasi_size_t *);
__wasi_errno_t
__wrap___wasi_path_readlink(__wasi_fd_t fd, const char *path, uint8_t *buf,
                            __wasi_size_t buf_len, __wasi_size_t *out)
{
    GUARD(path);
    return __real___wasi_path_readlink(fd, path, buf, buf_len, out);
}

__wasi_errno_t __real___wasi_path_remove_directory(__wasi_fd_t, const char *);
__wasi_errno_t
__wrap___wasi_path_remove_directory(__wasi_fd_t fd, const char *path)
{
    GUARD(path);
    return __real___wasi_path_remove_directory(fd, path);
}

__wasi_errno_t __real___wasi_path_rename(__wasi_fd_t, const char *, __wasi_fd_t,
                                         const char *);
__wasi_errno_t
__wrap___wasi_path_rename(__wasi_fd_t fd, const char *old_path, __wasi_fd_t new_fd,
                          const char *new_path)
{
    GUARD(old_path);
    GUARD(new_path);
    return __real___wasi_path_rename(fd, old_path, new_fd, new_path);
}

/* The link's target is a string for the host as much as its name. */
__wasi_errno_t __real___wasi_path_symlink(const char *, __wasi_fd_t, const char *);
__wasi_errno_t
__wrap___wasi_path_symlink(const char *old_path, __wasi_fd_t fd, const char *new_path)
{
    GUARD(old_path);
    GUARD(new_path);
    return __real___wasi_path_symlink(old_path, fd, new_path);
}

__wasi_errno_t __real___wasi_path_unlink_file(__wasi_fd_t, const char *);
__wasi_errno_t
__wrap___wasi_path_unlink_file(__wasi_fd_t fd, const char *path)
{
    GUARD(path);
    return __real___wasi_path_unlink_file(fd, path);
}

/* A host name that is not UTF-8 names no host. */
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

struct hostent *__real_gethostbyname(const char *);
struct hostent *
__wrap_gethostbyname(const char *name)
{
    if (name != NULL && !is_utf8(name)) {
        h_errno = HOST_NOT_FOUND;
        return NULL;
    }
    return __real_gethostbyname(name);
}

static struct PyModuleDef wasi_strings_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_pylon_wasi_strings",
    .m_doc = "Links the guard that keeps non-UTF-8 paths and host names from the WASI "
             "host (an OSError/EILSEQ instead of a trap). Nothing to call.",
    .m_size = 0,
};

PyMODINIT_FUNC
PyInit__pylon_wasi_strings(void)
{
    return PyModuleDef_Init(&wasi_strings_module);
}
