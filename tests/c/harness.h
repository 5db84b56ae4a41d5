/*
 * harness.h - the smallest test harness that tells us what failed.
 *
 *   TEST(name) { CHECK(x == 1); CHECK_EQ_INT(a, b); }
 *   int main(void) { RUN(name); return harness_done(); }
 *
 * A test passes when none of its checks fail. The last line printed is
 * "N passed, M failed", which tools/run_tests.sh adds up.
 */
#ifndef HARNESS_H
#define HARNESS_H
#include <stdio.h>
#include <string.h>

static int harness_failed_checks, harness_passed, harness_failed;

#define TEST(name) static void name(void)
#define CHECK(cond) do { if (!(cond)) { harness_failed_checks++; \
    fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_EQ_INT(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
    if (_a != _b) { harness_failed_checks++; fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", \
    __FILE__, __LINE__, #a, _a, _b); } } while (0)
#define CHECK_STR_CONTAINS(s, sub) do { const char *_s = (s); if (!_s || !strstr(_s, (sub))) { \
    harness_failed_checks++; fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", \
    __FILE__, __LINE__, _s ? _s : "(null)", (sub)); } } while (0)
#define RUN(name) do { int _before = harness_failed_checks; name(); \
    if (harness_failed_checks == _before) harness_passed++; \
    else { harness_failed++; fprintf(stderr, "FAIL %s\n", #name); } } while (0)

static int harness_done(void) {
    printf("%d passed, %d failed\n", harness_passed, harness_failed);
    return harness_failed ? 1 : 0;
}
#endif
