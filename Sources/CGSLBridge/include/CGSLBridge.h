// Internal C shim: the GSL and CBLAS declarations that the Swift module GSLBridge wraps.
//
// Only GSL's <gsl/gsl_cblas.h> declares the CBLAS API here: OpenBLAS's <cblas.h> declares the
// same enums and the two cannot be included together. The symbols themselves come from OpenBLAS,
// which is linked before libgsl (and so before libgslcblas, which libgsl pulls in).
#ifndef CGSLBRIDGE_H
#define CGSLBRIDGE_H

#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_min.h>
#include <gsl/gsl_roots.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_vector.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_sf_log.h>
#include <gsl/gsl_sf_exp.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_version.h>

// OpenBLAS extensions (declared in OpenBLAS's cblas.h, which we do not include; see above).
int openblas_get_num_threads(void);
void openblas_set_num_threads(int num_threads);
char *openblas_get_config(void);
char *openblas_get_corename(void);

// Turns GSL's abort-on-error handler off; every GSL status is then returned to the caller.
void fc_gsl_errors_off(void);

// Name of the GSL error handler currently installed: 1 when it is off, 0 otherwise.
int fc_gsl_errors_are_off(void);

// A GSL error with its reason, remembered by the silent handler below for the Swift error.
// Returns the last reason seen on this thread ("" when none) and clears it.
const char *fc_gsl_last_reason(void);

// Accessors for GSL's global type tables (plain C globals, which Swift 6 treats as shared mutable state).
const gsl_rng_type *fc_rng_mt19937(void);
const gsl_min_fminimizer_type *fc_min_brent(void);
const gsl_multimin_fdfminimizer_type *fc_multimin_bfgs2(void);
const gsl_multimin_fdfminimizer_type *fc_multimin_conjugate_fr(void);
const gsl_multimin_fdfminimizer_type *fc_multimin_conjugate_pr(void);
const gsl_multimin_fdfminimizer_type *fc_multimin_steepest_descent(void);
const char *fc_gsl_version(void);

#endif
