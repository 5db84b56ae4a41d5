/* parquet_codec.c - page compression through Debian's libraries. */
#include <stdlib.h>
#include <string.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>
#include <lz4.h>
#include <brotli/decode.h>
#include "parquet.h"

const char *lask__pq_codec_name(int32_t codec) {
    static const char *names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                  "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};
    return codec >= 0 && codec < 8 ? names[codec] : "unknown";
}

static int32_t inflate_all(const uint8_t *src, size_t srclen, uint8_t *dst,
                           size_t dstlen, const char **why) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK) { *why = "zlib init failed"; return LASK_ENOMEM; }
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)srclen;
    z.next_out = dst;
    z.avail_out = (uInt)dstlen;
    int rc = inflate(&z, Z_FINISH);
    size_t got = dstlen - z.avail_out;
    inflateEnd(&z);
    if (rc != Z_STREAM_END || got != dstlen) {
        *why = "corrupted GZIP data";
        return LASK_EFORMAT;
    }
    return LASK_OK;
}

int32_t lask__pq_decompress(int32_t codec, const uint8_t *src, size_t srclen,
                            uint8_t *dst, size_t dstlen, const char **why) {
    if (srclen > UINT32_MAX || dstlen > UINT32_MAX) { *why = "page too large"; return LASK_EFORMAT; }
    switch (codec) {
    case PQ_CODEC_NONE:
        if (srclen != dstlen) { *why = "uncompressed page sizes differ"; return LASK_EFORMAT; }
        memcpy(dst, src, srclen);
        return LASK_OK;
    case PQ_CODEC_SNAPPY: {
        size_t n;
        if (snappy_uncompressed_length((const char *)src, srclen, &n) != SNAPPY_OK || n != dstlen) {
            *why = "corrupted SNAPPY data";
            return LASK_EFORMAT;
        }
        if (snappy_uncompress((const char *)src, srclen, (char *)dst, &n) != SNAPPY_OK || n != dstlen) {
            *why = "corrupted SNAPPY data";
            return LASK_EFORMAT;
        }
        return LASK_OK;
    }
    case PQ_CODEC_GZIP:
        return inflate_all(src, srclen, dst, dstlen, why);
    case PQ_CODEC_ZSTD: {
        size_t n = ZSTD_decompress(dst, dstlen, src, srclen);
        if (ZSTD_isError(n) || n != dstlen) { *why = "corrupted ZSTD data"; return LASK_EFORMAT; }
        return LASK_OK;
    }
    case PQ_CODEC_LZ4_RAW: {
        int n = LZ4_decompress_safe((const char *)src, (char *)dst, (int)srclen, (int)dstlen);
        if (n < 0 || (size_t)n != dstlen) { *why = "corrupted LZ4_RAW data"; return LASK_EFORMAT; }
        return LASK_OK;
    }
    case PQ_CODEC_BROTLI: {
        size_t n = dstlen;
        if (BrotliDecoderDecompress(srclen, src, &n, dst) != BROTLI_DECODER_RESULT_SUCCESS || n != dstlen) {
            *why = "corrupted BROTLI data";
            return LASK_EFORMAT;
        }
        return LASK_OK;
    }
    default:
        *why = codec == PQ_CODEC_LZ4 ? "unsupported compression LZ4 (the Hadoop framing; LZ4_RAW is supported)"
             : codec == PQ_CODEC_LZO ? "unsupported compression LZO"
             : "unknown compression codec";
        return LASK_EFORMAT;
    }
}

/* Make *dst hold at least n bytes (kept between calls). */
static int ensure(uint8_t **dst, size_t *cap, size_t n) {
    if (n <= *cap && *dst) return 0;
    uint8_t *d = realloc(*dst, n ? n : 1);
    if (!d) return -1;
    *dst = d;
    *cap = n;
    return 0;
}

int32_t lask__pq_compress(int32_t codec, int32_t level, const uint8_t *src, size_t srclen,
                          uint8_t **dst, size_t *dstcap, size_t *dstlen) {
    *dstlen = 0;
    switch (codec) {
    case PQ_CODEC_NONE:
        if (ensure(dst, dstcap, srclen)) return LASK_ENOMEM;
        memcpy(*dst, src, srclen);
        *dstlen = srclen;
        return LASK_OK;
    case PQ_CODEC_SNAPPY: {
        size_t n = snappy_max_compressed_length(srclen);
        if (ensure(dst, dstcap, n)) return LASK_ENOMEM;
        if (snappy_compress((const char *)src, srclen, (char *)*dst, &n) != SNAPPY_OK) return LASK_EINVAL;
        *dstlen = n;
        return LASK_OK;
    }
    case PQ_CODEC_ZSTD: {
        size_t cap = ZSTD_compressBound(srclen);
        if (ensure(dst, dstcap, cap)) return LASK_ENOMEM;
        size_t n = ZSTD_compress(*dst, cap, src, srclen, level ? level : 1);
        if (ZSTD_isError(n)) return LASK_ENOMEM;
        *dstlen = n;
        return LASK_OK;
    }
    case PQ_CODEC_GZIP: {
        z_stream z;
        memset(&z, 0, sizeof z);
        if (deflateInit2(&z, level ? level : 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return LASK_ENOMEM;
        size_t cap = deflateBound(&z, (uLong)srclen) + 32;
        if (ensure(dst, dstcap, cap)) { deflateEnd(&z); return LASK_ENOMEM; }
        z.next_in = (Bytef *)src;
        z.avail_in = (uInt)srclen;
        z.next_out = *dst;
        z.avail_out = (uInt)cap;
        int rc = deflate(&z, Z_FINISH);
        size_t n = cap - z.avail_out;
        deflateEnd(&z);
        if (rc != Z_STREAM_END) return LASK_ENOMEM;
        *dstlen = n;
        return LASK_OK;
    }
    case PQ_CODEC_LZ4_RAW: {
        int cap = LZ4_compressBound((int)srclen);
        if (cap <= 0 && srclen) return LASK_EINVAL;
        if (ensure(dst, dstcap, (size_t)cap)) return LASK_ENOMEM;
        int n = LZ4_compress_default((const char *)src, (char *)*dst, (int)srclen, cap);
        if (n <= 0 && srclen) return LASK_ENOMEM;
        *dstlen = (size_t)n;
        return LASK_OK;
    }
    default:
        return LASK_EINVAL;
    }
}
