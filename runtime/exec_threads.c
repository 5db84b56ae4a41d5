/* exec_threads.c - placeholder: runs sync until the pool lands. */
#include "engine.h"

int32_t lask__current_worker(void **wdata) { *wdata = NULL; return -1; }
int lask__in_worker(void) { return 0; }
void lask__pool_stop(lask_runtime *rt) { (void)rt; }
int32_t lask__exec_threads(lask_runtime *rt, const lask__frozen *f, lask_value *res,
                           const lask_compute_opts *opts) {
    return lask__exec_sync(rt, f, res, opts, -1, opts->sync_worker_data);
}
