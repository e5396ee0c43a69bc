#include "CGSLBridge.h"
#include <stdio.h>
#include <string.h>

static _Thread_local char last_reason[512];

static void fc_silent_handler(const char *reason, const char *file, int line, int gsl_errno) {
    snprintf(last_reason, sizeof last_reason, "%s (%s:%d, status %d)", reason ? reason : "", file ? file : "?", line, gsl_errno);
}

void fc_gsl_errors_off(void) { gsl_set_error_handler(&fc_silent_handler); }

int fc_gsl_errors_are_off(void) {
    gsl_error_handler_t *prev = gsl_set_error_handler(&fc_silent_handler);
    return prev == &fc_silent_handler;
}

const char *fc_gsl_last_reason(void) {
    static _Thread_local char copy[512];
    memcpy(copy, last_reason, sizeof copy);
    last_reason[0] = 0;
    return copy;
}

const gsl_rng_type *fc_rng_mt19937(void) { return gsl_rng_mt19937; }
const gsl_min_fminimizer_type *fc_min_brent(void) { return gsl_min_fminimizer_brent; }
const gsl_multimin_fdfminimizer_type *fc_multimin_bfgs2(void) { return gsl_multimin_fdfminimizer_vector_bfgs2; }
const gsl_multimin_fdfminimizer_type *fc_multimin_conjugate_fr(void) { return gsl_multimin_fdfminimizer_conjugate_fr; }
const gsl_multimin_fdfminimizer_type *fc_multimin_conjugate_pr(void) { return gsl_multimin_fdfminimizer_conjugate_pr; }
const gsl_multimin_fdfminimizer_type *fc_multimin_steepest_descent(void) { return gsl_multimin_fdfminimizer_steepest_descent; }
const char *fc_gsl_version(void) { return gsl_version; }
