/*
 * fdio.h - whole-buffer reads and writes on pipes, retried on EINTR and
 * short transfers. Header-only because both the referee and the small
 * fmsp-worker binary (which links nothing else of the library) use it.
 */
#ifndef FMSP_FDIO_H
#define FMSP_FDIO_H

#include <errno.h>
#include <stddef.h>
#include <unistd.h>

/* 0 when all len bytes were read; -1 on EOF or error. */
static inline int fdio_read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len) {
        ssize_t r = read(fd, p, len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        len -= (size_t)r;
    }
    return 0;
}

/* 0 when all len bytes were written; -1 on error. */
static inline int fdio_write_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

#endif
