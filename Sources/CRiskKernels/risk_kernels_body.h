// Body of the kernels, included twice by risk_kernels.c with FC_SUFFIX (and, for AVX2, a target
// attribute pushed on every function). Not a public header.

static inline __attribute__((always_inline)) v8f FC_NAME(vexp)(v8f x) {
    // Cephes expf: x = n ln2 + r with |r| <= ln2 / 2, exp(r) by a degree-6 polynomial (relative
    // error about 1e-7), 2^n put into the exponent bits. Below -87.3 the result is 0.
    const v8f lo = -87.3f, hi = 88.3f;
    v8f xc = __builtin_elementwise_min(__builtin_elementwise_max(x, lo), hi);
    const v8f magic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer held in the low bits
    v8f t = xc * 1.44269504088896341f + magic;
    v8f n = t - magic;
    v8f r = xc - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    v8f p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    v8i bits = ((v8i)t - (v8i)magic + 127) << 23;
    v8f y = p * (v8f)bits;
    v8i keep = x >= lo;  // lanes of all ones where x >= lo
    return (v8f)((v8i)y & keep);
}

static inline __attribute__((always_inline)) float FC_NAME(hsum)(v8f v) {
    v4f a = __builtin_shufflevector(v, v, 0, 1, 2, 3) + __builtin_shufflevector(v, v, 4, 5, 6, 7);
    v4f b = a + __builtin_shufflevector(a, a, 2, 3, 0, 1);
    return b[0] + b[1];
}

static inline __attribute__((always_inline)) float FC_NAME(hmax)(v8f v) {
    v4f a = __builtin_elementwise_max(__builtin_shufflevector(v, v, 0, 1, 2, 3), __builtin_shufflevector(v, v, 4, 5, 6, 7));
    v4f b = __builtin_elementwise_max(a, __builtin_shufflevector(a, a, 2, 3, 0, 1));
    return b[0] > b[1] ? b[0] : b[1];
}

#define FC_Q (FC_RISK_BLOCK / 8)

// Sum over positions of the rows of one block for the words of one sentence: FC_Q vectors of 8.
static inline __attribute__((always_inline)) void FC_NAME(gather)(const float *block, const uint16_t *w, int32_t L, int32_t nw, v8f z[FC_Q]) {
    for (int q = 0; q < FC_Q; q++) z[q] = 0.0f;
    for (int32_t l = 0; l < L; l++) {
        const float *row = block + ((int64_t)l * nw + w[l]) * FC_RISK_BLOCK;
        for (int q = 0; q < FC_Q; q++) z[q] += *(const v8f *)(row + 8 * q);
    }
}

#ifndef FC_PF
#define FC_PF 4
#endif
static inline __attribute__((always_inline)) void FC_NAME(prefetch)(const float *block, const uint16_t *w, int32_t L, int32_t nw, int write) {
    for (int32_t l = 0; l < L; l++) {
        const float *row = block + ((int64_t)l * nw + w[l]) * FC_RISK_BLOCK;
        if (write) { __builtin_prefetch(row, 1, 3); if (FC_RISK_BLOCK > 16) __builtin_prefetch(row + 16, 1, 3); }
        else { __builtin_prefetch(row, 0, 3); if (FC_RISK_BLOCK > 16) __builtin_prefetch(row + 16, 0, 3); }
    }
}

static void FC_NAME(lse_pass)(const fc_risk_problem *p, int32_t first, int32_t step,
                              float *m, float *s, float *best, int32_t *arg, float *label_logit) {
    const int64_t N = p->count;
    const int32_t L = p->length, nw = p->words_count;
    const int64_t blockStride = (int64_t)L * nw * FC_RISK_BLOCK;
    for (int64_t i = 0; i < N; i++) { m[i] = -INFINITY; s[i] = 0; best[i] = -INFINITY; arg[i] = 0; }
    for (int32_t b = first; b < p->blocks; b += step) {
        const float *block = p->table + b * blockStride;
        const int32_t j0 = b * FC_RISK_BLOCK;
        for (int64_t i = 0; i < N; i++) {
            v8f z[FC_Q];
            if (i + FC_PF < N) FC_NAME(prefetch)(block, p->words + (i + FC_PF) * L, L, nw, 0);
            FC_NAME(gather)(block, p->words + i * L, L, nw, z);
            v8f zmax = z[0];
            for (int q = 1; q < FC_Q; q++) zmax = __builtin_elementwise_max(zmax, z[q]);
            float bm = FC_NAME(hmax)(zmax);
            if (bm > best[i]) {
                best[i] = bm;
                for (int c = 0; c < FC_RISK_BLOCK; c++) if (z[c / 8][c % 8] == bm) { arg[i] = j0 + c; break; }
            }
            float mi = m[i], si = s[i];
            if (bm > mi) { si *= expf(mi - bm); mi = bm; m[i] = mi; }
            v8f e = FC_NAME(vexp)(z[0] - mi);
            for (int q = 1; q < FC_Q; q++) e += FC_NAME(vexp)(z[q] - mi);
            s[i] = si + FC_NAME(hsum)(e);
            int32_t k = p->labels[i] - j0;
            if (k >= 0 && k < FC_RISK_BLOCK) label_logit[i] = z[k / 8][k % 8];
        }
    }
}

static void FC_NAME(residual_pass)(const fc_risk_problem *p, int32_t first, int32_t step, const float *lse) {
    const int64_t N = p->count;
    const int32_t L = p->length, nw = p->words_count;
    const int64_t blockStride = (int64_t)L * nw * FC_RISK_BLOCK;
    for (int32_t b = first; b < p->blocks; b += step) {
        const float *block = p->table + b * blockStride;
        float *gblock = p->gtable + b * blockStride;
        memset(gblock, 0, sizeof(float) * (size_t)blockStride);
        const int32_t j0 = b * FC_RISK_BLOCK;
        for (int64_t i = 0; i < N; i++) {
            const uint16_t *w = p->words + i * L;
            v8f r[FC_Q];
            if (i + FC_PF < N) { FC_NAME(prefetch)(block, p->words + (i + FC_PF) * L, L, nw, 0); FC_NAME(prefetch)(gblock, p->words + (i + FC_PF) * L, L, nw, 1); }
            FC_NAME(gather)(block, w, L, nw, r);
            const float li = lse[i];
            for (int q = 0; q < FC_Q; q++) r[q] = FC_NAME(vexp)(r[q] - li);
            int32_t k = p->labels[i] - j0;
            if (k >= 0 && k < FC_RISK_BLOCK) r[k / 8][k % 8] -= 1.0f;
            for (int32_t l = 0; l < L; l++) {
                float *g = gblock + ((int64_t)l * nw + w[l]) * FC_RISK_BLOCK;
                for (int q = 0; q < FC_Q; q++) *(v8f *)(g + 8 * q) += r[q];
            }
        }
    }
}

#undef FC_Q

static void FC_NAME(exp_array)(const float *x, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v8f v;
        memcpy(&v, x + i, sizeof v);
        v = FC_NAME(vexp)(v);
        memcpy(y + i, &v, sizeof v);
    }
    if (i < n) {
        v8f v = 0.0f;
        for (int64_t j = i; j < n; j++) v[j - i] = x[j];
        v = FC_NAME(vexp)(v);
        for (int64_t j = i; j < n; j++) y[j] = v[j - i];
    }
}
