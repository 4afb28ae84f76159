/* I/O faults for goldspan's store tests, loaded with LD_PRELOAD into a child process.
 *
 * It counts the calls a process makes on files under GOLDSPAN_FAULT_DIR (open, write, fsync,
 * rename, ftruncate, flock: the calls that change a database or decide whether it may be changed)
 * and makes call number GOLDSPAN_FAULT_AT fail with errno GOLDSPAN_FAULT_ERRNO, once; every other
 * call goes to libc unchanged. GOLDSPAN_FAULT_LOG, if set, gets one line per counted call:
 * "N OP PATH FAILED", so a test knows how many calls an operation makes and which failed.
 *
 * Black-box on purpose: it sees the store's calls however they are made (os.write, a Python file
 * object's buffered write, tempfile's os.open, fcntl.flock), which a shim over Python's os module
 * would not. Reads are never counted or failed. Built by tests/helpers/faults.py with the system's
 * C compiler.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_FD 4096

static char dir[PATH_MAX];
static size_t dir_len;
static long fail_at;
static int fail_errno = EIO;
static long calls;
static int log_fd = -1;
static int trace_fd = -1; /* GOLDSPAN_FAULT_TRACE: what each call did to the files, for the power-cut replay */
static char tracked[MAX_FD][PATH_MAX / 16]; /* the path of each fd opened under dir (empty: not ours) */
static int ready;

static void setup(void) {
    if (ready) return;
    ready = 1;
    const char *d = getenv("GOLDSPAN_FAULT_DIR");
    if (d && realpath(d, dir)) dir_len = strlen(dir);
    const char *at = getenv("GOLDSPAN_FAULT_AT");
    fail_at = at ? atol(at) : 0;
    const char *e = getenv("GOLDSPAN_FAULT_ERRNO");
    if (e) fail_errno = atoi(e);
    int (*real_open)(const char *, int, ...) = dlsym(RTLD_NEXT, "open");
    const char *log = getenv("GOLDSPAN_FAULT_LOG");
    if (log) log_fd = real_open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    const char *trace_path = getenv("GOLDSPAN_FAULT_TRACE");
    if (trace_path) trace_fd = real_open(trace_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    /* This process only: a child it starts (a background fold) runs without faults or counting. */
    unsetenv("LD_PRELOAD");
    unsetenv("GOLDSPAN_FAULT_AT");
}

/* Whether a path lies under dir (the folder itself included), made absolute by the cwd if needed. */
static int ours(const char *path) {
    if (!dir_len || !path) return 0;
    char absolute[PATH_MAX];
    if (path[0] != '/') {
        if (!getcwd(absolute, sizeof absolute)) return 0;
        size_t n = strlen(absolute);
        snprintf(absolute + n, sizeof absolute - n, "/%s", path);
        path = absolute;
    }
    return strncmp(path, dir, dir_len) == 0 && (path[dir_len] == '/' || path[dir_len] == '\0');
}

static const char *name_of(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Count a call on one of our files; returns 1 if this call is the one to fail (errno is set). */
static int counted(const char *op, const char *path) {
    long n = ++calls;
    int fail = n == fail_at;
    if (log_fd >= 0) {
        char line[PATH_MAX + 64];
        int len = snprintf(line, sizeof line, "%ld %s %s %s\n", n, op, name_of(path), fail ? "FAILED" : "ok");
        ssize_t (*real_write)(int, const void *, size_t) = dlsym(RTLD_NEXT, "write");
        if (len > 0) real_write(log_fd, line, (size_t)len);
    }
    if (fail) errno = fail_errno;
    return fail;
}


/* One event of the trace: a header line, then (for a write) the bytes written. */
static void trace(const char *header, const void *data, size_t size) {
    if (trace_fd < 0) return;
    ssize_t (*real_write)(int, const void *, size_t) = dlsym(RTLD_NEXT, "write");
    real_write(trace_fd, header, strlen(header));
    if (size) real_write(trace_fd, data, size);
}

static void trace_write(int fd, const char *path, off_t offset, const void *data, ssize_t written) {
    if (trace_fd < 0 || written <= 0) return;
    char header[PATH_MAX + 64];
    snprintf(header, sizeof header, "W %s %lld %zd\n", path, (long long)offset, written);
    trace(header, data, (size_t)written);
}

static off_t write_offset(int fd) {
    if (fcntl(fd, F_GETFL) & O_APPEND) {
        struct stat st;
        return fstat(fd, &st) == 0 ? st.st_size : 0;
    }
    return lseek(fd, 0, SEEK_CUR);
}

static void trace_event(const char *kind, const char *a, const char *b) {
    if (trace_fd < 0) return;
    char header[2 * PATH_MAX + 16];
    snprintf(header, sizeof header, b ? "%s %s %s\n" : "%s %s\n", kind, a, b);
    trace(header, NULL, 0);
}

static const char *fd_path(int fd) {
    return fd >= 0 && fd < MAX_FD && tracked[fd][0] ? tracked[fd] : NULL;
}

static void track(int fd, const char *path) {
    if (fd < 0 || fd >= MAX_FD) return;
    snprintf(tracked[fd], sizeof tracked[fd], "%s", name_of(path));
}

static int opened(const char *path, int flags, int existed, int fd) {
    if (fd < 0) return fd;
    track(fd, path);
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if (!existed && (flags & O_CREAT)) trace_event("C", name_of(path), NULL);
        else if (flags & O_TRUNC) trace_event("O", name_of(path), NULL);
    }
    return fd;
}

#define OPEN_LIKE(fn, ...)                                                            \
    int fn(__VA_ARGS__) {                                                             \
        setup();                                                                      \
        mode_t mode = 0;                                                              \
        if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) {                  \
            va_list args;                                                             \
            va_start(args, flags);                                                    \
            mode = va_arg(args, mode_t);                                              \
            va_end(args);                                                             \
        }

OPEN_LIKE(open, const char *path, int flags, ...)
    static int (*real)(const char *, int, ...);
    if (!real) real = dlsym(RTLD_NEXT, "open");
    int mine = ours(path);
    if (mine && counted("open", path)) return -1;
    int existed = mine && access(path, F_OK) == 0;
    int fd = real(path, flags, mode);
    return mine ? opened(path, flags, existed, fd) : fd;
}

OPEN_LIKE(open64, const char *path, int flags, ...)
    static int (*real)(const char *, int, ...);
    if (!real) real = dlsym(RTLD_NEXT, "open64");
    int mine = ours(path);
    if (mine && counted("open", path)) return -1;
    int existed = mine && access(path, F_OK) == 0;
    int fd = real(path, flags, mode);
    return mine ? opened(path, flags, existed, fd) : fd;
}

OPEN_LIKE(openat, int dirfd, const char *path, int flags, ...)
    static int (*real)(int, const char *, int, ...);
    if (!real) real = dlsym(RTLD_NEXT, "openat");
    int mine = (dirfd == AT_FDCWD || path[0] == '/') && ours(path);
    if (mine && counted("open", path)) return -1;
    int existed = mine && access(path, F_OK) == 0;
    int fd = real(dirfd, path, flags, mode);
    return mine ? opened(path, flags, existed, fd) : fd;
}

OPEN_LIKE(openat64, int dirfd, const char *path, int flags, ...)
    static int (*real)(int, const char *, int, ...);
    if (!real) real = dlsym(RTLD_NEXT, "openat64");
    int mine = (dirfd == AT_FDCWD || path[0] == '/') && ours(path);
    if (mine && counted("open", path)) return -1;
    int existed = mine && access(path, F_OK) == 0;
    int fd = real(dirfd, path, flags, mode);
    return mine ? opened(path, flags, existed, fd) : fd;
}

int close(int fd) {
    static int (*real)(int);
    if (!real) real = dlsym(RTLD_NEXT, "close");
    if (fd >= 0 && fd < MAX_FD) tracked[fd][0] = '\0';
    return real(fd);
}

ssize_t write(int fd, const void *buffer, size_t size) {
    static ssize_t (*real)(int, const void *, size_t);
    if (!real) real = dlsym(RTLD_NEXT, "write");
    setup();
    const char *path = fd_path(fd);
    if (path && counted("write", path)) return -1;
    off_t offset = path ? write_offset(fd) : 0;
    ssize_t written = real(fd, buffer, size);
    if (path) trace_write(fd, path, offset, buffer, written);
    return written;
}

ssize_t pwrite(int fd, const void *buffer, size_t size, off_t offset) {
    static ssize_t (*real)(int, const void *, size_t, off_t);
    if (!real) real = dlsym(RTLD_NEXT, "pwrite");
    setup();
    const char *path = fd_path(fd);
    if (path && counted("write", path)) return -1;
    ssize_t written = real(fd, buffer, size, offset);
    if (path) trace_write(fd, path, offset, buffer, written);
    return written;
}

ssize_t writev(int fd, const struct iovec *vectors, int count) {
    static ssize_t (*real)(int, const struct iovec *, int);
    if (!real) real = dlsym(RTLD_NEXT, "writev");
    setup();
    const char *path = fd_path(fd);
    if (path && counted("write", path)) return -1;
    off_t offset = path ? write_offset(fd) : 0;
    ssize_t written = real(fd, vectors, count);
    for (int i = 0, left = (int)written; path && i < count && left > 0; i++) {
        ssize_t part = (ssize_t)vectors[i].iov_len < left ? (ssize_t)vectors[i].iov_len : left;
        trace_write(fd, path, offset, vectors[i].iov_base, part);
        offset += part;
        left -= (int)part;
    }
    return written;
}

/* fsync and fdatasync, ftruncate and ftruncate64: the same wrapper around each of two libc calls. */
static int synced(const char *symbol, int fd) {
    int (*real)(int) = dlsym(RTLD_NEXT, symbol);
    setup();
    const char *path = fd_path(fd);
    if (path && counted("fsync", path)) return -1;
    int done = real(fd);
    if (path && done == 0) {
        struct stat st;
        trace_event(fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) ? "D" : "S", path, NULL);
    }
    return done;
}

int fsync(int fd) { return synced("fsync", fd); }
int fdatasync(int fd) { return synced("fdatasync", fd); }

static int truncated(const char *symbol, int fd, off_t length) {
    int (*real)(int, off_t) = dlsym(RTLD_NEXT, symbol);
    setup();
    const char *path = fd_path(fd);
    if (path && counted("ftruncate", path)) return -1;
    int done = real(fd, length);
    if (path && done == 0) {
        char size[32];
        snprintf(size, sizeof size, "%lld", (long long)length);
        trace_event("T", path, size);
    }
    return done;
}

int ftruncate(int fd, off_t length) { return truncated("ftruncate", fd, length); }
int ftruncate64(int fd, off_t length) { return truncated("ftruncate64", fd, length); }

int flock(int fd, int operation) {
    static int (*real)(int, int);
    if (!real) real = dlsym(RTLD_NEXT, "flock");
    setup();
    const char *path = fd_path(fd);
    /* Unlocking is never failed: the kernel drops the lock with the descriptor anyway. */
    if (path && !(operation & LOCK_UN) && counted("flock", path)) return -1;
    return real(fd, operation);
}

int rename(const char *from, const char *to) {
    static int (*real)(const char *, const char *);
    if (!real) real = dlsym(RTLD_NEXT, "rename");
    setup();
    if ((ours(from) || ours(to)) && counted("rename", to)) return -1;
    int done = real(from, to);
    if (done == 0 && (ours(from) || ours(to))) trace_event("R", name_of(from), name_of(to));
    return done;
}

int renameat(int fromfd, const char *from, int tofd, const char *to) {
    static int (*real)(int, const char *, int, const char *);
    if (!real) real = dlsym(RTLD_NEXT, "renameat");
    setup();
    if ((ours(from) || ours(to)) && counted("rename", to)) return -1;
    int done = real(fromfd, from, tofd, to);
    if (done == 0 && (ours(from) || ours(to))) trace_event("R", name_of(from), name_of(to));
    return done;
}

int renameat2(int fromfd, const char *from, int tofd, const char *to, unsigned int flags) {
    static int (*real)(int, const char *, int, const char *, unsigned int);
    if (!real) real = dlsym(RTLD_NEXT, "renameat2");
    setup();
    if ((ours(from) || ours(to)) && counted("rename", to)) return -1;
    int done = real(fromfd, from, tofd, to, flags);
    if (done == 0 && (ours(from) || ours(to))) trace_event("R", name_of(from), name_of(to));
    return done;
}
