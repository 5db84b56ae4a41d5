/* fuzz_csv.c - libFuzzer target for the CSV reader (infer + read + write).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iruntime \
 *     tests/fuzz/fuzz_csv.c runtime/csv.c runtime/csv_num.c runtime/csv_write.c \
 *     runtime/frame.c runtime/chunk.c -lcsv -lm -o build/fuzz_csv
 *   build/fuzz_csv -max_total_time=60 tests/fuzz/csv_corpus
 *
 * The first input byte picks options (separator, header, skip bad lines,
 * a comment character); the rest is the file. Any crash, leak or sanitizer
 * report is a bug: malformed text must only ever give an error status. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "csvio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t o8 = data[0];
    const char *text = (const char *)data + 1;
    int64_t n = (int64_t)size - 1;
    char spec[64];
    size_t sl = 0;
#define PUT(s) do { memcpy(spec + sl, s, sizeof s); sl += sizeof s; } while (0)
    if (o8 & 1) PUT("sep\0;");
    if (o8 & 2) PUT("header\0" "0");
    if (o8 & 4) PUT("skip_bad_lines\0" "1");
    if (o8 & 8) PUT("comment\0#");
    if (o8 & 16) PUT("date\0col1");
    lask__csv_opts o;
    lask__csv_opts_init(&o);
    char err[512];
    if (lask__csv_opts_parse(&o, spec, (int64_t)sl, err, sizeof err)) { lask__csv_opts_free(&o); return 0; }
    lask__csv_schema s;
    if (lask__csv_infer_mem("fuzz.csv", text, n, &o, &s, err, sizeof err) == 0) {
        lask__frame *f = NULL;
        int64_t skipped;
        if (lask__csv_read_mem("fuzz.csv", text, n, &o, &s, &f, &skipped, err, sizeof err) == 0 && f) {
            if (o8 & 32) {
                char path[] = "/tmp/lask_fuzz_XXXXXX";
                int fd = mkstemp(path);
                if (fd >= 0) {
                    close(fd);
                    lask__csv_write(f, path, ',', 1, err, sizeof err);
                    unlink(path);
                }
            }
            lask_chunk_unref(&f->h);
        }
        lask__csv_schema_free(&s);
    }
    lask__csv_opts_free(&o);
    return 0;
}
