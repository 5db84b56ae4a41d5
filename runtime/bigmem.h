/*
 * bigmem.h - allocation of the large per-compute arrays.
 *
 * Buffers of 256 KB or more are mapped on their own and marked for
 * transparent huge pages: on a virtual machine a 4 KB page fault costs
 * several microseconds, more than running dozens of tasks, and one 2 MB
 * page replaces 512 of them. Smaller ones come from malloc.
 */
#ifndef LASK_BIGMEM_H
#define LASK_BIGMEM_H

#include <pthread.h>
#include <stddef.h>

void *lask__big_alloc(size_t n);            /* contents undefined */
void *lask__big_calloc(size_t n);           /* zero-filled */
void *lask__big_realloc(void *p, size_t n); /* keeps min(old, n) bytes */
void lask__big_free(void *p);
/* For buffers released with plain free() (column values): 2 MB or more
 * come 2 MB aligned and marked for huge pages, smaller ones from malloc. */
void *lask__huge_malloc(size_t n);

/* This thread's zero-initialised record of size bytes under key (made by
 * pthread_key_create with a destructor that frees it), allocated on first
 * use: the home of per-thread buffers kept between tasks. NULL when out of
 * memory (callers then allocate as if it were their first time). */
void *lask__thread_record(pthread_key_t key, size_t size);

#endif
