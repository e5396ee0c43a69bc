#include "CRiskKernels.h"

#include <math.h>
#include <string.h>

// The 8-wide helpers are static and always inlined into the kernels, so the baseline build's warning
// that an AVX-sized vector passed by value changes the ABI does not apply.
#pragma clang diagnostic ignored "-Wpsabi"

typedef float v8f __attribute__((ext_vector_type(8)));
typedef float v4f __attribute__((ext_vector_type(4)));
typedef int32_t v8i __attribute__((ext_vector_type(8)));

// Baseline build (SSE2 on x86-64: clang splits each 8-wide operation in two).
#define FC_NAME(name) name##_base
#define FC_PERMUTE 0
#include "risk_kernels_body.h"
#undef FC_PERMUTE
#undef FC_NAME

#if defined(__x86_64__)
// The same code for AVX2 + FMA, used when the processor reports both.
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define FC_NAME(name) name##_avx2
#define FC_PERMUTE 1
#include "risk_kernels_body.h"
#undef FC_PERMUTE
#undef FC_NAME
#pragma clang attribute pop

static _Atomic int force_baseline = 0;

static int fc_has_avx2(void) {
    if (force_baseline) return 0;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
static _Atomic int force_baseline = 0;
static int fc_has_avx2(void) { return 0; }
#endif

void fc_risk_force_baseline(int on) { force_baseline = on != 0; }

int fc_risk_uses_avx2(void) { return fc_has_avx2(); }

#if defined(__x86_64__)
#define FC_DISPATCH(name, args) do { if (fc_has_avx2()) name##_avx2 args; else name##_base args; } while (0)
#else
#define FC_DISPATCH(name, args) name##_base args
#endif

void fc_risk_label_logits(const fc_risk_problem *p, int64_t begin, int64_t end, float *out) {
    FC_DISPATCH(label_logits, (p, begin, end, out));
}

void fc_risk_lse_pass(const fc_risk_problem *p, int32_t first, int32_t step, const float *shift, float *s, float *other) {
    FC_DISPATCH(lse_pass, (p, first, step, shift, s, other));
}

void fc_risk_residual_pass(const fc_risk_problem *p, int32_t first, int32_t step, const float *lse, const float *scale) {
    FC_DISPATCH(residual_pass, (p, first, step, lse, scale));
}

void fc_risk_sentence_lse(const fc_risk_problem *p, int64_t i, float *lse, float *other) {
    FC_DISPATCH(sentence_lse, (p, i, lse, other));
}

void fc_risk_exp(const float *x, float *y, int64_t n) {
    FC_DISPATCH(exp_array, (x, y, n));
}
