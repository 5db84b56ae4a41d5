/* frame.c - construction and accessors of frame chunks and their columns. */
#include <stdlib.h>
#include <string.h>
#include "frame.h"

static int64_t value_width(int32_t type) {
    switch (type) {
    case LASK_COL_INT64: case LASK_COL_FLOAT64: case LASK_COL_TIMESTAMP: return 8;
    case LASK_COL_BOOL: return 1;
    case LASK_COL_STRING: return 8;   /* offsets */
    default: return 0;
    }
}

lask__column *lask__column_new(int32_t type, int64_t n, int64_t strbytes) {
    int64_t w = value_width(type);
    if (!w || n < 0 || strbytes < 0 || n > (INT64_MAX / 8) - 1) return NULL;
    lask__column *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    atomic_init(&c->refs, 1);
    c->type = type;
    c->n = n;
    int64_t vn = type == LASK_COL_STRING ? n + 1 : n;
    c->values = calloc((size_t)(vn ? vn : 1), (size_t)w);
    if (type == LASK_COL_STRING) {
        c->strdata = malloc((size_t)strbytes + 1);
        c->strbytes = strbytes;
    }
    if (!c->values || (type == LASK_COL_STRING && !c->strdata)) {
        free(c->values);
        free(c->strdata);
        free(c);
        return NULL;
    }
    c->nbytes = vn * w + strbytes;
    return c;
}

uint8_t *lask__column_validity(lask__column *col) {
    if (col->valid) return col->valid;
    size_t nb = (size_t)(col->n + 7) / 8;
    col->valid = malloc(nb ? nb : 1);
    if (col->valid) {
        memset(col->valid, 0xff, nb ? nb : 1);
        col->nbytes += (int64_t)nb;
    }
    return col->valid;
}

lask__column *lask__column_ref(lask__column *col) {
    if (col) atomic_fetch_add_explicit(&col->refs, 1, memory_order_relaxed);
    return col;
}

void lask__column_unref(lask__column *col) {
    if (!col) return;
    if (atomic_fetch_sub_explicit(&col->refs, 1, memory_order_acq_rel) == 1) {
        free(col->values);
        free(col->strdata);
        free(col->valid);
        free(col);
    }
}

static void frame_destroy(lask_chunk *c) {
    lask__frame *f = (lask__frame *)c;
    for (int32_t i = 0; i < f->ncols; i++) {
        free(f->names[i]);
        lask__column_unref(f->cols[i]);
    }
    free(f->names);
    free(f->cols);
    free(f);
}

lask__frame *lask__frame_new(int32_t ncols, int64_t nrows) {
    if (ncols < 0 || nrows < 0) return NULL;
    lask__frame *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->names = calloc((size_t)(ncols ? ncols : 1), sizeof *f->names);
    f->cols = calloc((size_t)(ncols ? ncols : 1), sizeof *f->cols);
    if (!f->names || !f->cols) {
        free(f->names);
        free(f->cols);
        free(f);
        return NULL;
    }
    f->ncols = ncols;
    f->nrows = nrows;
    f->index = -1;
    lask__chunk_init(&f->h, LASK_KIND_FRAME, 0, frame_destroy);
    return f;
}

int lask__frame_set(lask__frame *f, int32_t i, const char *name, lask__column *col) {
    if (i < 0 || i >= f->ncols || !col) return LASK_EINVAL;
    char *nm = strdup(name ? name : "");
    if (!nm) return LASK_ENOMEM;
    if (f->cols[i]) f->h.nbytes -= f->cols[i]->nbytes;
    free(f->names[i]);
    lask__column_unref(f->cols[i]);
    f->names[i] = nm;
    f->cols[i] = col;
    f->h.nbytes += col->nbytes;
    return LASK_OK;
}

int32_t lask__frame_find(const lask__frame *f, const char *name) {
    for (int32_t i = 0; i < f->ncols; i++)
        if (f->names[i] && strcmp(f->names[i], name) == 0) return i;
    return -1;
}

#define FR(c) ((const lask__frame *)(c))
static const lask__column *col_at(const lask_chunk *c, int32_t i) {
    if (!c || c->kind != LASK_KIND_FRAME || i < 0 || i >= FR(c)->ncols) return NULL;
    return FR(c)->cols[i];
}
int32_t lask_frame_ncols(const lask_chunk *c) {
    return c && c->kind == LASK_KIND_FRAME ? FR(c)->ncols : -1;
}
int64_t lask_frame_nrows(const lask_chunk *c) {
    return c && c->kind == LASK_KIND_FRAME ? FR(c)->nrows : -1;
}
const char *lask_frame_colname(const lask_chunk *c, int32_t i) {
    return col_at(c, i) ? FR(c)->names[i] : NULL;
}
int32_t lask_frame_coltype(const lask_chunk *c, int32_t i) {
    const lask__column *col = col_at(c, i);
    return col ? col->type : -1;
}
const void *lask_frame_values(const lask_chunk *c, int32_t i) {
    const lask__column *col = col_at(c, i);
    return col ? col->values : NULL;
}
const char *lask_frame_strdata(const lask_chunk *c, int32_t i) {
    const lask__column *col = col_at(c, i);
    return col ? col->strdata : NULL;
}
const uint8_t *lask_frame_validity(const lask_chunk *c, int32_t i) {
    const lask__column *col = col_at(c, i);
    return col ? col->valid : NULL;
}
