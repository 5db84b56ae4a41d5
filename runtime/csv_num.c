/* csv_num.c - text to numbers and timestamps, without allocating.
 *
 * The float fast path is exact: a decimal with at most 19 significant digits
 * whose value m * 10^e has m < 2^53 and |e| <= 22 is one correctly rounded
 * IEEE multiplication or division. Anything else goes to strtod. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <math.h>
#include "csv_num.h"

static const double pow10tab[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

const char *lask__scan_int(const char *p, const char *end, int64_t *out) {
    int neg = 0;
    if (p < end && (*p == '-' || *p == '+')) { neg = *p == '-'; p++; }
    const char *d = p;
    uint64_t v = 0;
    while (p < end && (unsigned)(*p - '0') < 10) {
        unsigned dig = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - dig) / 10) return NULL;
        v = v * 10 + dig;
        p++;
    }
    if (p == d) return NULL;
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1) return NULL;
        *out = (int64_t)(0 - v);
    } else {
        if (v > (uint64_t)INT64_MAX) return NULL;
        *out = (int64_t)v;
    }
    return p;
}

const char *lask__scan_double(const char *p, const char *end, double *out) {
    const char *s = p;
    int neg = 0;
    if (p < end && (*p == '-' || *p == '+')) { neg = *p == '-'; p++; }
    uint64_t m = 0;
    int nd = 0, exp10 = 0, any = 0;
    while (p < end && (unsigned)(*p - '0') < 10) {
        if (nd < 19) { m = m * 10 + (uint64_t)(*p - '0'); if (m) nd++; }
        else exp10++;
        p++; any = 1;
    }
    if (p < end && *p == '.') {
        p++;
        while (p < end && (unsigned)(*p - '0') < 10) {
            if (nd < 19) { m = m * 10 + (uint64_t)(*p - '0'); if (m) nd++; exp10--; }
            p++; any = 1;
        }
    }
    if (!any) return NULL;
    if (p < end && (*p == 'e' || *p == 'E')) {
        const char *q = p + 1;
        int eneg = 0, e = 0, ed = 0;
        if (q < end && (*q == '-' || *q == '+')) { eneg = *q == '-'; q++; }
        while (q < end && (unsigned)(*q - '0') < 10) {
            if (e < 100000) e = e * 10 + (*q - '0');
            q++; ed++;
        }
        if (!ed) return NULL;
        exp10 += eneg ? -e : e;
        p = q;
    }
    if (m < (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
        double v = (double)m;
        v = exp10 < 0 ? v / pow10tab[-exp10] : v * pow10tab[exp10];
        *out = neg ? -v : v;
        return p;
    }
    if (m == 0) { *out = neg ? -0.0 : 0.0; return p; }
    /* the slow, always-right path */
    char buf[512];
    size_t n = (size_t)(p - s);
    if (n >= sizeof buf) return NULL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *e;
    double v = strtod(buf, &e);
    if (e != buf + n) return NULL;
    *out = v;
    return p;
}

int lask__parse_double_full(const char *s, size_t n, double *out) {
    const char *e = lask__scan_double(s, s + n, out);
    if (e == s + n) return 1;
    /* inf, nan, hex and other strtod forms */
    char buf[64];
    if (n == 0 || n >= sizeof buf) return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *ep;
    double v = strtod(buf, &ep);
    if (ep != buf + n || buf[0] == ' ' || buf[0] == '\t') return 0;
    *out = v;
    return 1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (era arithmetic:
 * 400-year eras of 146097 days, years starting in March). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (m + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int digits(const char *s, size_t n, size_t at, int k, int *out) {
    if (at + (size_t)k > n) return 0;
    int v = 0;
    for (int i = 0; i < k; i++) {
        unsigned c = (unsigned)(s[at + i] - '0');
        if (c > 9) return 0;
        v = v * 10 + (int)c;
    }
    *out = v;
    return 1;
}

static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

int lask__parse_timestamp(const char *s, size_t n, int64_t *ns) {
    int y, mo, d, hh = 0, mi = 0, ss = 0;
    int64_t frac = 0;
    if (!digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || s[7] != '-' ||
        !digits(s, n, 5, 2, &mo) || !digits(s, n, 8, 2, &d))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1]) return -1;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return -1;
    size_t i = 10;
    int64_t off = 0;
    if (i < n && (s[i] == 'T' || s[i] == ' ')) {
        if (!digits(s, n, i + 1, 2, &hh) || i + 3 >= n || s[i + 3] != ':' ||
            !digits(s, n, i + 4, 2, &mi))
            return -1;
        i += 6;
        if (i < n && s[i] == ':') {
            if (!digits(s, n, i + 1, 2, &ss)) return -1;
            i += 3;
            if (i < n && (s[i] == '.' || s[i] == ',')) {
                i++;
                int nd = 0;
                while (i < n && (unsigned)(s[i] - '0') < 10) {
                    if (nd < 9) { frac = frac * 10 + (s[i] - '0'); nd++; }
                    i++;
                }
                if (!nd) return -1;
                while (nd++ < 9) frac *= 10;
            }
        }
        if (hh > 23 || mi > 59 || ss > 60) return -1;
        if (i < n && s[i] == 'Z') i++;
        else if (i < n && (s[i] == '+' || s[i] == '-')) {
            int oh, om = 0, sign = s[i] == '-' ? -1 : 1;
            if (!digits(s, n, i + 1, 2, &oh)) return -1;
            i += 3;
            if (i < n && s[i] == ':') i++;
            if (i < n) { if (!digits(s, n, i, 2, &om)) return -1; i += 2; }
            off = sign * ((int64_t)oh * 3600 + om * 60);
        }
    }
    if (i != n) return -1;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss - off;
    /* int64 nanoseconds reach only the years 1677..2262: past them the
     * value is not a timestamp we can hold, never a wrapped one */
    if (__builtin_mul_overflow(secs, (int64_t)1000000000, &secs) ||
        __builtin_add_overflow(secs, frac, ns))
        return -1;
    return 0;
}

int lask__format_timestamp(int64_t ns, char *buf) {
    int64_t secs = ns / 1000000000, frac = ns % 1000000000;
    if (frac < 0) { frac += 1000000000; secs--; }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) { rem += 86400; days--; }
    int64_t y; int m, d;
    civil_from_days(days, &y, &m, &d);
    int n = snprintf(buf, 40, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)y, m, d,
                     (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    if (frac) {
        int k = 9;
        while (frac % 10 == 0) { frac /= 10; k--; }
        n += snprintf(buf + n, 40 - (size_t)n, ".%0*lld", k, (long long)frac);
    }
    return n;
}

void lask__timestamp_fields(int64_t ns, int64_t *y, int *mo, int *d, int *h) {
    int64_t secs = ns / 1000000000;
    if (ns % 1000000000 < 0) secs--;
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) { rem += 86400; days--; }
    civil_from_days(days, y, mo, d);
    *h = (int)(rem / 3600);
}

const char *lask__coltype_name(int32_t type) {
    switch (type) {
    case LASK_COL_INT64: return "int64";
    case LASK_COL_FLOAT64: return "float64";
    case LASK_COL_BOOL: return "bool";
    case LASK_COL_STRING: return "string";
    case LASK_COL_TIMESTAMP: return "timestamp";
    default: return "?";
    }
}

int32_t lask__coltype_from_name(const char *name) {
    static const struct { const char *n; int32_t t; } names[] = {
        {"int64", LASK_COL_INT64}, {"int", LASK_COL_INT64}, {"integer", LASK_COL_INT64},
        {"float64", LASK_COL_FLOAT64}, {"float", LASK_COL_FLOAT64}, {"double", LASK_COL_FLOAT64},
        {"number", LASK_COL_FLOAT64}, {"bool", LASK_COL_BOOL}, {"boolean", LASK_COL_BOOL},
        {"string", LASK_COL_STRING}, {"str", LASK_COL_STRING}, {"object", LASK_COL_STRING},
        {"timestamp", LASK_COL_TIMESTAMP}, {"datetime", LASK_COL_TIMESTAMP},
        {"datetime64[ns]", LASK_COL_TIMESTAMP}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].n) == 0) return names[i].t;
    return -1;
}

/* UTF-8 check: ASCII eight bytes at a time, then the multi-byte forms
 * (no overlongs, no surrogates, nothing above U+10FFFF). */
int64_t lask__utf8_invalid_at(const char *s, int64_t n) {
    const unsigned char *p = (const unsigned char *)s;
    int64_t i = 0;
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (!(w & 0x8080808080808080ull)) { i += 8; continue; }
        }
        unsigned c = p[i];
        if (c < 0x80) { i++; continue; }
        int k;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) k = 1;
        else if (c == 0xE0) { k = 2; lo = 0xA0; }
        else if (c >= 0xE1 && c <= 0xEC) k = 2;
        else if (c == 0xED) { k = 2; hi = 0x9F; }
        else if (c >= 0xEE && c <= 0xEF) k = 2;
        else if (c == 0xF0) { k = 3; lo = 0x90; }
        else if (c >= 0xF1 && c <= 0xF3) k = 3;
        else if (c == 0xF4) { k = 3; hi = 0x8F; }
        else return i;
        if (i + k >= n) return i;
        if (p[i + 1] < lo || p[i + 1] > hi) return i;
        for (int j = 2; j <= k; j++)
            if (p[i + j] < 0x80 || p[i + j] > 0xBF) return i;
        i += k + 1;
    }
    return -1;
}
