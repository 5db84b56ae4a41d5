/*
 * csvio.h - CSV <-> frame chunks (internal to the runtime and the bridge).
 *
 * A CSV file is read one byte range at a time: the range owns the lines
 * whose first byte falls inside it, so ranges split anywhere still give
 * every line exactly once. The column types (the schema) are decided once,
 * from a sample of the first file, and every range is parsed against them;
 * a value that does not fit is an error that says where and how to fix it.
 *
 * Quote-free blocks go through a hand-rolled scanner that parses numbers in
 * place; blocks with quotes go through libcsv, fed one physical line at a
 * time so errors can name the line.
 */
#ifndef LASK_CSVIO_H
#define LASK_CSVIO_H

#include <stdint.h>
#include "frame.h"

typedef struct lask__csv_opts {
    char sep;              /* ',' */
    char quote;            /* '"' */
    char comment;          /* 0: none; lines starting with it are skipped */
    int header;            /* 1: the first line (after skiprows) names columns */
    int64_t skiprows;      /* lines skipped at the top of the file */
    int skip_bad_lines;    /* 1: ragged rows are dropped and counted */
    int32_t nnames; char **names;         /* given names (replace the header) */
    int32_t nusecols; char **usecols;     /* keep only these (file order) */
    int32_t ndtypes; char **dtype_cols; int32_t *dtype_types;  /* forced types */
    int32_t nna; char **na_values;        /* NULL/0: the default NA strings */
    size_t na_maxlen;                     /* longest NA string */
    int32_t ndates; char **parse_dates;   /* columns parsed as timestamps */
    char *path_column;     /* NULL, or a string column holding the path */
} lask__csv_opts;

/* Column names and types of the file's fields; keep[i] = 0 for fields
 * dropped by usecols. */
typedef struct lask__csv_schema {
    int32_t ncols;
    char **names;
    int32_t *types;
    uint8_t *keep;
} lask__csv_schema;

void lask__csv_opts_init(lask__csv_opts *o);
void lask__csv_opts_free(lask__csv_opts *o);
void lask__csv_schema_free(lask__csv_schema *s);

/* Parse a compact option string: a sequence of NUL-terminated words
 * "key" "value"..., as written by the Lua side (see l_frame.c). */
int lask__csv_opts_parse(lask__csv_opts *o, const char *spec, int64_t n,
                         char *err, size_t errlen);

/* Decide the schema of path from its first sample_bytes bytes. */
int lask__csv_infer(const char *path, const lask__csv_opts *o, int64_t sample_bytes,
                    lask__csv_schema *out, char *err, size_t errlen);

/* Parse the lines of path starting in [start, end) (end < 0: to the end of
 * the file) into a frame with the schema's kept columns. *skipped receives
 * the number of bad lines dropped (skip_bad_lines). */
int lask__csv_read(const char *path, int64_t start, int64_t end,
                   const lask__csv_opts *o, const lask__csv_schema *s,
                   lask__frame **out, int64_t *skipped, char *err, size_t errlen);

/* The same on bytes in memory (a whole file's text); name is used in
 * messages. */
int lask__csv_read_mem(const char *name, const char *data, int64_t n,
                       const lask__csv_opts *o, const lask__csv_schema *s,
                       lask__frame **out, int64_t *skipped, char *err, size_t errlen);
int lask__csv_infer_mem(const char *name, const char *data, int64_t n,
                        const lask__csv_opts *o, lask__csv_schema *out,
                        char *err, size_t errlen);

/* The same on one block already in memory that starts at file offset begin
 * (0: the top of the file, where skiprows and the header are skipped). */
int lask__csv_read_block(const char *name, const char *data, int64_t n, int64_t begin,
                         const lask__csv_opts *o, const lask__csv_schema *s,
                         lask__frame **out, int64_t *skipped, char *err, size_t errlen);
/* partial: the sample was cut short (an open quote at its end is no error). */
int lask__csv_infer_block(const char *name, const char *data, int64_t n, int partial,
                          const lask__csv_opts *o, lask__csv_schema *out,
                          char *err, size_t errlen);

/* Write f to path as CSV (header line, then rows; missing values empty). */
int lask__csv_write(const lask__frame *f, const char *path, char sep,
                    int header, char *err, size_t errlen);

/* Parse an ISO-8601 date/time ("2024-01-31", "2024-01-31T12:00:00.5Z",
 * "2024-01-31 12:00:00+02:00") to ns since the epoch; 0 on success. */
int lask__parse_timestamp(const char *s, size_t n, int64_t *ns);
/* Format ns as ISO-8601 into buf (at least 40 bytes); returns the length. */
int lask__format_timestamp(int64_t ns, char *buf);
/* Type name ("int64", ...) and back (-1 when unknown). */
const char *lask__coltype_name(int32_t type);
int32_t lask__coltype_from_name(const char *name);

#endif
