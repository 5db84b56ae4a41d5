/* csv_write.c - frame chunks to CSV text (for to_csv).
 *
 * Fields are quoted only when they must be (they hold the separator, a
 * quote or a line break); libcsv's csv_write does the quoting then. */
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <inttypes.h>
#include <csv.h>
#include "csvio.h"

static int put_text(FILE *fp, const char *s, size_t n, char sep) {
    int need = 0;
    for (size_t i = 0; i < n && !need; i++)
        need = s[i] == sep || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (n == 0) return 0;
    if (!need) return fwrite(s, 1, n, fp) == n ? 0 : -1;
    return csv_fwrite(fp, s, n) == 0 ? 0 : -1;
}

int lask__csv_write(const lask__frame *f, const char *path, char sep,
                    int header, char *err, size_t errlen) {
    FILE *fp = fopen(path, "w");
    if (!fp) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        return LASK_EIO;
    }
    static __thread char buf[1 << 16];
    setvbuf(fp, buf, _IOFBF, sizeof buf);
    int bad = 0;
    if (header) {
        for (int32_t j = 0; j < f->ncols; j++) {
            if (j) bad |= fputc(sep, fp) == EOF;
            bad |= put_text(fp, f->names[j], strlen(f->names[j]), sep);
        }
        bad |= fputc('\n', fp) == EOF;
    }
    char num[64];
    for (int64_t r = 0; r < f->nrows && !bad; r++) {
        for (int32_t j = 0; j < f->ncols; j++) {
            const lask__column *c = f->cols[j];
            if (j) fputc(sep, fp);
            if (!lask__column_isvalid(c, r)) continue;
            int n = 0;
            switch (c->type) {
            case LASK_COL_INT64: n = snprintf(num, sizeof num, "%" PRId64, ((int64_t *)c->values)[r]); break;
            case LASK_COL_FLOAT64: n = snprintf(num, sizeof num, "%.17g", ((double *)c->values)[r]); break;
            case LASK_COL_BOOL: n = snprintf(num, sizeof num, "%s", ((uint8_t *)c->values)[r] ? "true" : "false"); break;
            case LASK_COL_TIMESTAMP: n = lask__format_timestamp(((int64_t *)c->values)[r], num); break;
            default: {
                const int64_t *o = c->values;
                bad |= put_text(fp, c->strdata + o[r], (size_t)(o[r + 1] - o[r]), sep);
                continue;
            }
            }
            /* shortest text that reads back as the same double */
            if (c->type == LASK_COL_FLOAT64) {
                double v = ((double *)c->values)[r];
                for (int prec = 15; prec < 17; prec++) {
                    char t[64];
                    int k = snprintf(t, sizeof t, "%.*g", prec, v);
                    double back;
                    if (sscanf(t, "%lf", &back) == 1 && back == v) { memcpy(num, t, (size_t)k + 1); n = k; break; }
                }
            }
            bad |= fwrite(num, 1, (size_t)n, fp) != (size_t)n;
        }
        bad |= fputc('\n', fp) == EOF;
    }
    if (fclose(fp) || bad) {
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
        return LASK_EIO;
    }
    return LASK_OK;
}
