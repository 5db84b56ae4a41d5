/*
 * fuzz_parquet.c - libFuzzer target for the Parquet reader: the input is a
 * whole file; its footer is parsed and every row group decoded from memory.
 * Any crash, out-of-bounds access or leak is a bug; errors are expected.
 *
 *   make fuzz          (runs each tests/fuzz/fuzz_*.c for FUZZ_TIME seconds)
 */
#include <stdint.h>
#include <stdlib.h>
#include "parquet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lask__pq_file *f;
    char err[512];
    if (lask__pq_open_mem("fuzz.parquet", data, (int64_t)size, &f, err, sizeof err) != LASK_OK)
        return 0;
    for (int32_t g = 0; g < f->nrowgroups; g++) {
        /* every column (nested ones fail cleanly), then each flat one alone */
        lask__frame *fr;
        if (lask__pq_read_rowgroup(f, g, NULL, -1, data, (int64_t)size, &fr, err, sizeof err) == LASK_OK)
            lask_chunk_unref(&fr->h);
        for (int32_t c = 0; c < f->ncols && c < 16; c++) {
            const char *name = f->cols[c].name;
            if (lask__pq_read_rowgroup(f, g, &name, 1, data, (int64_t)size, &fr, err, sizeof err) == LASK_OK)
                lask_chunk_unref(&fr->h);
        }
    }
    /* statistics are decoded by read_parquet's planner */
    for (int32_t g = 0; g < f->nrowgroups; g++)
        for (int32_t c = 0; c < f->ncols; c++) {
            if (f->cols[c].nested) continue;
            const lask__pq_stats *s = &f->rowgroups[g].chunks[f->cols[c].leaf].stats;
            int64_t i;
            double d;
            lask__pq_stat_value(&f->cols[c], s->min, s->min_len, s->legacy, &i, &d);
            lask__pq_stat_value(&f->cols[c], s->max, s->max_len, s->legacy, &i, &d);
        }
    lask__pq_close(f);
    return 0;
}
