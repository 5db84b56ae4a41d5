/* csv_num.h - allocation-free text to number/timestamp conversions. */
#ifndef LASK_CSV_NUM_H
#define LASK_CSV_NUM_H
#include <stddef.h>
#include <stdint.h>
#include "csvio.h"

/* Parse a number at p (before end); returns where it stopped, or NULL when
 * there is no number there (or an int overflows). */
const char *lask__scan_int(const char *p, const char *end, int64_t *out);
const char *lask__scan_double(const char *p, const char *end, double *out);
/* The whole of s[0..n-1] as a float (also inf/nan forms); 1 on success. */
int lask__parse_double_full(const char *s, size_t n, double *out);
/* Calendar fields of a timestamp (UTC). */
void lask__timestamp_fields(int64_t ns, int64_t *y, int *mo, int *d, int *h);
/* Offset of the first byte that is not valid UTF-8, or -1. */
int64_t lask__utf8_invalid_at(const char *s, int64_t n);
#endif
