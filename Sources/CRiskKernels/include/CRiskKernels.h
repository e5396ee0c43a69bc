// The two passes of the full-batch empirical risk in single precision (see Training/EmpiricalRisk.swift).
//
// Classes are cut into blocks of FC_RISK_BLOCK = 32. `table` holds, block by block, the L per-position
// tables A_l = Psi U_l^T restricted to the block: table[((b * L + l) * nw + w) * 32 + c] = A_l[w, 32b + c].
// A sentence's logits for block b are the sum over l of the rows (b, l, words[i * L + l]).
//
// Pass 1 shifts every sentence's logits by its label logit (computed first, by fc_risk_label_logits),
// not by a running maximum: the sum of exponentials then needs no rescaling and no horizontal maximum
// per block. It is exact while no other logit exceeds the label's by more than FC_RISK_SHIFT_LIMIT
// (the sum cannot overflow); pass 1 reports that largest other logit, and the caller recomputes the
// few sentences beyond the limit with fc_risk_sentence_lse.
//
// Compiled twice: for AVX2 + FMA, chosen at run time when the processor has them, and for the
// baseline instruction set.
#ifndef FC_RISK_KERNELS_H
#define FC_RISK_KERNELS_H

#include <stdint.h>

#define FC_RISK_BLOCK 32
#define FC_RISK_SHIFT_LIMIT 80.0f

typedef struct {
    const float *table;      // nb * L * nw * FC_RISK_BLOCK floats, 64-byte aligned
    float *gtable;           // same layout: summed residuals (pass 2 only)
    const uint16_t *words;   // N * L word indices
    const int32_t *labels;   // N class labels
    float *exps;             // NULL, or nb * N * FC_RISK_BLOCK floats, 64-byte aligned: pass 1 saves
                             // exp(logit - shift) there (block by block), and pass 2 reads them back
    int64_t count;           // N
    int32_t length;          // L
    int32_t words_count;     // n_w
    int32_t blocks;          // nb = ceil(K / 32); padding classes hold -1e30 in `table`
} fc_risk_problem;

// The logit of its label, for sentences begin..<end (the shift of pass 1).
void fc_risk_label_logits(const fc_risk_problem *p, int64_t begin, int64_t end, float *out);

// Pass 1 over blocks first, first + step, ... (< blocks). For every sentence i: s[i], the sum of
// exp(logit - shift[i]) over the classes of those blocks; other[i], the largest logit among them of
// a class other than its label (-inf if none). Both arrays are initialised here. When p->exps is set,
// the exponentials of those blocks are saved in it.
void fc_risk_lse_pass(const fc_risk_problem *p, int32_t first, int32_t step, const float *shift, float *s, float *other);

// Pass 2 over the same blocks: the residuals (probability - onehot(label)) of every sentence, summed
// per (block, position, word) into gtable (each visited block of gtable is zeroed first). Sentence
// i's probabilities are the saved exponentials times scale[i] when p->exps is set and scale[i] > 0,
// and exp(logit - lse[i]), the logits gathered again, otherwise.
void fc_risk_residual_pass(const fc_risk_problem *p, int32_t first, int32_t step, const float *lse, const float *scale);

// The log-sum-exp of sentence i over all classes, with a running maximum (the fallback for the
// sentences beyond FC_RISK_SHIFT_LIMIT), and its largest logit of a class other than its label.
void fc_risk_sentence_lse(const fc_risk_problem *p, int64_t i, float *lse, float *other);

// 1 when the AVX2 + FMA kernels run, 0 for the baseline ones.
int fc_risk_uses_avx2(void);

// With a non-zero argument, the baseline kernels run even where AVX2 is available (for tests).
void fc_risk_force_baseline(int on);

// exp of n floats with the kernels' vectorised exponential (for tests: relative error against libm).
// Defined for x <= 88; exactly 0 below -87.3.
void fc_risk_exp(const float *x, float *y, int64_t n);

#endif
