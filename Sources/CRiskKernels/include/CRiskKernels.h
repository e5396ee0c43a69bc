// The two passes of the full-batch empirical risk in single precision (see Training/EmpiricalRisk.swift).
//
// Classes are cut into blocks of FC_RISK_BLOCK = 32. `table` holds, block by block, the L per-position
// tables A_l = Psi U_l^T restricted to the block: table[((b * L + l) * nw + w) * 32 + c] = A_l[w, 32b + c].
// A sentence's logits for block b are the sum over l of the rows (b, l, words[i * L + l]).
// Compiled twice: for AVX2 + FMA, chosen at run time when the processor has them, and for the
// baseline instruction set.
#ifndef FC_RISK_KERNELS_H
#define FC_RISK_KERNELS_H

#include <stdint.h>

#define FC_RISK_BLOCK 32

typedef struct {
    const float *table;      // nb * L * nw * FC_RISK_BLOCK floats, 64-byte aligned
    float *gtable;           // same layout: summed residuals (pass 2 only)
    const uint16_t *words;   // N * L word indices
    const int32_t *labels;   // N class labels
    int64_t count;           // N
    int32_t length;          // L
    int32_t words_count;     // n_w
    int32_t blocks;          // nb = ceil(K / 32); padding classes hold -1e30 in `table`
} fc_risk_problem;

// Pass 1 over blocks first, first + step, ... (< blocks). For every sentence i: m[i], the running
// maximum logit; s[i], the sum of exp(logit - m[i]); best[i] and arg[i], the largest logit and its
// class; label_logit[i], the logit of its label when the label is in one of the blocks visited.
// The arrays are initialised here (m, best = -inf, s = 0, arg = 0).
void fc_risk_lse_pass(const fc_risk_problem *p, int32_t first, int32_t step,
                      float *m, float *s, float *best, int32_t *arg, float *label_logit);

// Pass 2 over the same blocks: the residuals exp(logit - lse[i]) - onehot(label) of every sentence,
// summed per (block, position, word) into gtable (each visited block of gtable is zeroed first).
void fc_risk_residual_pass(const fc_risk_problem *p, int32_t first, int32_t step, const float *lse);

// 1 when the AVX2 + FMA kernels run, 0 for the baseline ones.
int fc_risk_uses_avx2(void);

// With a non-zero argument, the baseline kernels run even where AVX2 is available (for tests).
void fc_risk_force_baseline(int on);

// exp of n floats with the kernels' vectorised exponential (for tests: relative error against libm).
void fc_risk_exp(const float *x, float *y, int64_t n);

#endif
