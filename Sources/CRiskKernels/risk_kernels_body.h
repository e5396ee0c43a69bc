// Body of the kernels, included twice by risk_kernels.c with FC_NAME (and, for AVX2, a target
// attribute pushed on every function). Not a public header.

static inline __attribute__((always_inline)) v8f FC_NAME(vexp)(v8f x) {
    // exp(x) = 2^n · 2^(j/8) · exp(r): x·8/ln2 is rounded to m = 8n + j (j = 0..7) and r = x − m·ln2/8,
    // |r| <= ln2/16; 2^(j/8) comes from an 8-entry table (one vpermps in the AVX2 build) and exp(r)
    // from its degree-4 Taylor polynomial (remainder < 1.3e-9). Relative error about 1.4e-7, most of
    // it float rounding. 2^n is added into the exponent bits. Below −87.3 (where 2^n would leave the
    // normal range) the result is exactly 0, as it is for −inf and NaN (the comparison is false).
    const v8f lo = -87.3f;
    const v8f magic = 12582912.0f;  // 1.5 · 2^23: adding it rounds to an integer held in the low bits
    v8f t = x * 11.541560327111707f + magic;  // 8 / ln2
    v8f m = t - magic;
    v8f r = x - m * 0.086669921875f;  // ln2/8 in two parts: the first has 9 significant bits, so
    r = r - m * -2.65243050e-5f;       // m times it is exact for |m| < 2^15
    v8f p = 4.16666679e-2f;
    p = p * r + 1.66666672e-1f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const v8f table = {1.0f, 1.09050773f, 1.18920712f, 1.29683955f, 1.41421356f, 1.54221083f, 1.68179283f, 1.83400809f};
    const v8i mi = (v8i)t;  // low 3 bits: j; (mi − bits of magic) >> 3: n
    v8f f;
#if FC_PERMUTE
    f = __builtin_ia32_permvarsf256(table, mi);  // lane q: table[mi[q] & 7]
#else
    for (int q = 0; q < 8; q++) f[q] = table[mi[q] & 7];
#endif
    const v8i scale = ((mi - (v8i)magic) >> 3) << 23;
    v8f y = (v8f)((v8i)(p * f) + scale);
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
#define FC_ROW(block, l, w) ((block) + ((int64_t)(l) * nw + (w)) * FC_RISK_BLOCK)

// A sentence's logits in one block: the sum over positions of the rows of its words, FC_Q vectors of
// 8. Even and odd positions are summed apart and then added (two shorter dependency chains); the
// label logit of fc_risk_label_logits uses the same order, so the two agree to the last bit.
static inline __attribute__((always_inline)) void FC_NAME(gather)(const float *block, const uint16_t *w, int32_t L, int32_t nw, v8f z[FC_Q]) {
    v8f a[FC_Q], b[FC_Q];
    for (int q = 0; q < FC_Q; q++) { a[q] = 0.0f; b[q] = 0.0f; }
    int32_t l = 0;
    for (; l + 2 <= L; l += 2) {
        const float *r0 = FC_ROW(block, l, w[l]), *r1 = FC_ROW(block, l + 1, w[l + 1]);
        for (int q = 0; q < FC_Q; q++) { a[q] += *(const v8f *)(r0 + 8 * q); b[q] += *(const v8f *)(r1 + 8 * q); }
    }
    if (l < L) {
        const float *r0 = FC_ROW(block, l, w[l]);
        for (int q = 0; q < FC_Q; q++) a[q] += *(const v8f *)(r0 + 8 * q);
    }
    for (int q = 0; q < FC_Q; q++) z[q] = a[q] + b[q];
}

// Lanes 0..7 of vector q hold classes 8q..8q+7 of a block.
static inline __attribute__((always_inline)) v8i FC_NAME(lanes)(int q) {
    const v8i iota = {0, 1, 2, 3, 4, 5, 6, 7};
    return iota + 8 * q;
}

static void FC_NAME(label_logits)(const fc_risk_problem *p, int64_t begin, int64_t end, float *out) {
    const int32_t L = p->length, nw = p->words_count;
    const int64_t stride = (int64_t)L * nw * FC_RISK_BLOCK;
    for (int64_t i = begin; i < end; i++) {
        const int32_t y = p->labels[i];
        const float *col = p->table + (y / FC_RISK_BLOCK) * stride + y % FC_RISK_BLOCK;
        const uint16_t *w = p->words + i * L;
        float a = 0.0f, b = 0.0f;
        int32_t l = 0;
        for (; l + 2 <= L; l += 2) { a += *FC_ROW(col, l, w[l]); b += *FC_ROW(col, l + 1, w[l + 1]); }
        if (l < L) a += *FC_ROW(col, l, w[l]);
        out[i] = a + b;
    }
}

// Sentences are taken FC_BATCH at a time: first all their gathers, then their exponentials, so that
// the long dependency chain of one sentence (gather, then exp, then sums) overlaps with the others'.
#define FC_BATCH 16

static void FC_NAME(lse_pass)(const fc_risk_problem *p, int32_t first, int32_t step, const float *shift, float *s, float *other) {
    const int64_t N = p->count;
    const int32_t L = p->length, nw = p->words_count;
    const int64_t stride = (int64_t)L * nw * FC_RISK_BLOCK;
    for (int64_t i = 0; i < N; i++) { s[i] = 0.0f; other[i] = -INFINITY; }
    for (int32_t b = first; b < p->blocks; b += step) {
        const float *block = p->table + b * stride;
        const int32_t j0 = b * FC_RISK_BLOCK;
        for (int64_t i0 = 0; i0 < N; i0 += FC_BATCH) {
            const int64_t n = N - i0 < FC_BATCH ? N - i0 : FC_BATCH;
            v8f z[FC_BATCH][FC_Q];
            for (int64_t j = 0; j < n; j++) FC_NAME(gather)(block, p->words + (i0 + j) * L, L, nw, z[j]);
            for (int64_t j = 0; j < n; j++) {
                const int64_t i = i0 + j;
                const float c = shift[i];
                v8f e[FC_Q];
                for (int q = 0; q < FC_Q; q++) e[q] = FC_NAME(vexp)(z[j][q] - c);
                if (p->exps) {
                    // Streaming stores: pass 2 reads them back in the same order, long after.
                    float *dst = p->exps + ((int64_t)b * N + i) * FC_RISK_BLOCK;
                    for (int q = 0; q < FC_Q; q++) __builtin_nontemporal_store(e[q], (v8f *)(dst + 8 * q));
                }
                v8f acc = e[0];
                for (int q = 1; q < FC_Q; q++) acc += e[q];
                const int32_t k = p->labels[i] - j0;
                if (__builtin_expect((uint32_t)k < FC_RISK_BLOCK, 0))
                    for (int q = 0; q < FC_Q; q++) z[j][q] = FC_NAME(lanes)(q) == k ? (v8f)(-INFINITY) : z[j][q];
                v8f vm = z[j][0];
                for (int q = 1; q < FC_Q; q++) vm = __builtin_elementwise_max(vm, z[j][q]);
                s[i] += FC_NAME(hsum)(acc);
                const float m = FC_NAME(hmax)(vm);
                if (m > other[i]) other[i] = m;
            }
        }
    }
}

// Adds one sentence's residuals (probabilities r, minus 1 at its label's place k when 0 <= k < 32)
// to the rows of its words in the block's residual table.
static inline __attribute__((always_inline)) void FC_NAME(add_residual)(float *gblock, const uint16_t *w, int32_t L, int32_t nw, int32_t k, v8f r[FC_Q]) {
    if (__builtin_expect((uint32_t)k < FC_RISK_BLOCK, 0))
        for (int q = 0; q < FC_Q; q++) r[q] -= FC_NAME(lanes)(q) == k ? (v8f)1.0f : (v8f)0.0f;
    for (int32_t l = 0; l < L; l++) {
        float *g = FC_ROW(gblock, l, w[l]);
        for (int q = 0; q < FC_Q; q++) *(v8f *)(g + 8 * q) += r[q];
    }
}

static void FC_NAME(residual_pass)(const fc_risk_problem *p, int32_t first, int32_t step, const float *lse, const float *scale) {
    const int64_t N = p->count;
    const int32_t L = p->length, nw = p->words_count;
    const int64_t stride = (int64_t)L * nw * FC_RISK_BLOCK;
    for (int32_t b = first; b < p->blocks; b += step) {
        const float *block = p->table + b * stride;
        float *gblock = p->gtable + b * stride;
        memset(gblock, 0, sizeof(float) * (size_t)stride);
        const int32_t j0 = b * FC_RISK_BLOCK;
        for (int64_t i0 = 0; i0 < N; i0 += FC_BATCH) {
            const int64_t n = N - i0 < FC_BATCH ? N - i0 : FC_BATCH;
            // Sentences with saved exponentials go straight through; the others are gathered again,
            // all first, then their exponentials, then they are added in like the first.
            int64_t again[FC_BATCH];
            int na = 0;
            for (int64_t j = 0; j < n; j++) {
                const int64_t i = i0 + j;
                if (!(p->exps && scale[i] > 0.0f)) { again[na++] = i; continue; }
                const float *src = p->exps + ((int64_t)b * N + i) * FC_RISK_BLOCK;
                v8f r[FC_Q];
                for (int q = 0; q < FC_Q; q++) r[q] = *(const v8f *)(src + 8 * q) * scale[i];
                FC_NAME(add_residual)(gblock, p->words + i * L, L, nw, p->labels[i] - j0, r);
            }
            if (na == 0) continue;
            v8f z[FC_BATCH][FC_Q];
            for (int j = 0; j < na; j++) FC_NAME(gather)(block, p->words + again[j] * L, L, nw, z[j]);
            for (int j = 0; j < na; j++) {
                for (int q = 0; q < FC_Q; q++) z[j][q] = FC_NAME(vexp)(z[j][q] - lse[again[j]]);
                FC_NAME(add_residual)(gblock, p->words + again[j] * L, L, nw, p->labels[again[j]] - j0, z[j]);
            }
        }
    }
}

static void FC_NAME(sentence_lse)(const fc_risk_problem *p, int64_t i, float *lse, float *other) {
    // One pass over the blocks with a running maximum m: the sum (in double) is rescaled whenever a
    // block raises m, so every exponential taken is of a number <= 0.
    const int32_t L = p->length, nw = p->words_count;
    const int64_t stride = (int64_t)L * nw * FC_RISK_BLOCK;
    const uint16_t *w = p->words + i * L;
    const int32_t y = p->labels[i];
    float m = -INFINITY, o = -INFINITY;
    double sum = 0;
    for (int32_t b = 0; b < p->blocks; b++) {
        v8f z[FC_Q];
        FC_NAME(gather)(p->table + b * stride, w, L, nw, z);
        float bm = -INFINITY;
        for (int c = 0; c < FC_RISK_BLOCK; c++) {
            const float v = z[c / 8][c % 8];
            if (v > bm) bm = v;
            if (b * FC_RISK_BLOCK + c != y && v > o) o = v;
        }
        if (bm > m) { sum *= exp((double)m - (double)bm); m = bm; }
        v8f acc = 0.0f;
        for (int q = 0; q < FC_Q; q++) acc += FC_NAME(vexp)(z[q] - m);
        sum += FC_NAME(hsum)(acc);
    }
    *lse = m + (float)log(sum);
    *other = o;
}

#undef FC_Q
#undef FC_ROW

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
