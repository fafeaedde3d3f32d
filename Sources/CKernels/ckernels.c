// See include/ckernels.h. Every function here that uses AVX-512 is compiled for it by
// its own target attribute and only called when `dissect_wide_vectors` is 1.
#include "ckernels.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

// No multiply and add may be fused unless written as one: the Swift twin never fuses.
#pragma clang fp contract(off)

int dissect_cpu_has_avx512(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0;  // OSXSAVE
    unsigned low, high;
    __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
    if ((low & 0xE6) != 0xE6) return 0;  // the OS saves XMM, YMM, opmask and ZMM state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b & (1u << 16)) != 0;  // AVX512F
}

int dissect_wide_vectors = 0;

__attribute__((constructor)) static void dissect_choose_vectors(void) {
    const char *bits = getenv("DISSECT_VECTOR_BITS");
    dissect_wide_vectors = dissect_cpu_has_avx512() && !(bits && strcmp(bits, "256") == 0);
}

#define AVX512 __attribute__((target("avx512f"), always_inline)) static inline
#define UNROLL _Pragma("clang loop unroll(full)")

// R rows (1…12) × Q panels (1 or 2; 8 for a lone row) of 16 columns: R·Q sums in registers
// over all k (at most 24 of the 32 zmm registers), one load of each panel line for all R rows.
AVX512 void rows_times_panels(
    float *const *out, const float *const *x, const float *panel, long k, const int R, const int Q, long lastColumns) {
    __m512 acc[12][8];
    // Every loop over r and q unrolled, so the sums live in registers (clang leaves a 12 × 2 loop rolled by itself).
    UNROLL for (int r = 0; r < R; r++)
        UNROLL for (int q = 0; q < Q; q++) acc[r][q] = _mm512_setzero_ps();
    const long panelSize = k * 16;
    for (long i = 0; i < k; i++) {
        __m512 m[8];
        UNROLL for (int q = 0; q < Q; q++) m[q] = _mm512_loadu_ps(panel + q * panelSize + i * 16);
        UNROLL for (int r = 0; r < R; r++) {
            const __m512 s = _mm512_set1_ps(x[r][i]);
            UNROLL for (int q = 0; q < Q; q++) acc[r][q] = _mm512_fmadd_ps(s, m[q], acc[r][q]);
        }
    }
    UNROLL for (int r = 0; r < R; r++) {
        UNROLL for (int q = 0; q < Q; q++) {
            // Only the last panel of the matrix can be partial.
            const __mmask16 mask = q == Q - 1 && lastColumns < 16 ? (__mmask16)((1u << lastColumns) - 1) : (__mmask16)0xFFFF;
            const __m512 old = _mm512_maskz_loadu_ps(mask, out[r] + q * 16);
            _mm512_mask_storeu_ps(out[r] + q * 16, mask, _mm512_add_ps(old, acc[r][q]));
        }
    }
}

// One chunk of R rows (given by pointers to the panel's first column) × Q panels.
__attribute__((target("avx512f"))) static void chunk_times_panels(
    float *const *out, const float *const *x, const float *panel, long k, long R, int Q, long lastColumns) {
#define ROWS(N)                                                                                        \
    case N:                                                                                            \
        if (Q == 2) rows_times_panels(out, x, panel, k, N, 2, lastColumns);                            \
        else rows_times_panels(out, x, panel, k, N, 1, lastColumns);                                   \
        break;
    switch (R) {
        ROWS(12) ROWS(11) ROWS(10) ROWS(9) ROWS(8) ROWS(7) ROWS(6) ROWS(5) ROWS(4) ROWS(3) ROWS(2)
        default:
            if (Q == 8) rows_times_panels(out, x, panel, k, 1, 8, lastColumns);
            else if (Q == 2) rows_times_panels(out, x, panel, k, 1, 2, lastColumns);
            else rows_times_panels(out, x, panel, k, 1, 1, lastColumns);
    }
#undef ROWS
}

enum { maximumChunk = 12, maximumGatheredRows = 256 };

__attribute__((target("avx512f"))) void dissect_add_row_sets_times_panels_avx512(
    const dissect_row_set *sets, long setCount, const float *panels, long k, long n, int backwards) {
    long total = 0;
    for (long index = 0; index < setCount; index++) total += sets[index].rows > 0 ? sets[index].rows : 0;
    if (total == 0 || n <= 0) return;
    if (total > maximumGatheredRows) {
        // More rows than the stack lists hold: set by set (the same arithmetic per row).
        for (long index = 0; index < setCount; index++) {
            if (sets[index].rows > maximumGatheredRows) {
                for (long first = 0; first < sets[index].rows; first += maximumGatheredRows) {
                    dissect_row_set part = sets[index];
                    part.out += first * part.outStride;
                    part.x += first * part.xStride;
                    part.rows = sets[index].rows - first < maximumGatheredRows ? sets[index].rows - first : maximumGatheredRows;
                    dissect_add_row_sets_times_panels_avx512(&part, 1, panels, k, n, backwards);
                }
            } else {
                dissect_add_row_sets_times_panels_avx512(sets + index, 1, panels, k, n, backwards);
            }
        }
        return;
    }
    float *outRows[maximumGatheredRows];
    const float *xRows[maximumGatheredRows];
    long row = 0;
    for (long index = 0; index < setCount; index++) {
        for (long r = 0; r < sets[index].rows; r++) {
            outRows[row] = sets[index].out + r * sets[index].outStride;
            xRows[row] = sets[index].x + r * sets[index].xStride;
            row++;
        }
    }
    // Chunks of at most twelve rows, as even as possible (32 rows: 11, 11, 10), so none is left alone.
    const long chunks = (total + maximumChunk - 1) / maximumChunk;
    const long panelCount = (n + 15) / 16;
    // A lone row takes eight panels at a time (eight chains in flight); more rows take two.
    const long group = total == 1 ? 8 : 2;
    const long groups = panelCount / group, singles = panelCount - groups * group;
    float *chunkOut[maximumChunk];
    // Panels [0, groups·group) in groups, then the rest one by one; backwards visits both from the end.
    for (long index = 0; index < groups + singles; index++) {
        const long step = backwards ? groups + singles - 1 - index : index;
        long first, count;
        if (step < groups) { first = step * group; count = group; }
        else { first = groups * group + (step - groups); count = 1; }
        const long lastColumns = (first + count) * 16 > n ? n - (first + count - 1) * 16 : 16;
        const float *panel = panels + first * 16 * k;
        long start = 0;
        for (long chunk = 0; chunk < chunks; chunk++) {
            const long size = total / chunks + (chunk < total % chunks ? 1 : 0);
            for (long r = 0; r < size; r++) chunkOut[r] = outRows[start + r] + first * 16;
            chunk_times_panels(chunkOut, xRows + start, panel, k, size, (int)count, lastColumns);
            start += size;
        }
    }
}

__attribute__((target("avx512f"))) void dissect_add_rows_times_panels_avx512(
    float *out, long outStride, const float *x, long xStride, const float *panels,
    long rows, long k, long n, int backwards) {
    const dissect_row_set set = {out, x, outStride, xStride, rows};
    dissect_add_row_sets_times_panels_avx512(&set, 1, panels, k, n, backwards);
}

// Sixteen registers, each one source row's 16 values, become the 16 columns: in 128-bit lanes
// first (unpack, then shuffle: 4 × 4 blocks), then across lanes (two f32x4 shuffles).
AVX512 void transpose16(__m512 r[16]) {
    __m512 t[16];
    UNROLL for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    UNROLL for (int i = 0; i < 4; i++) {
        r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    UNROLL for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xDD);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xDD);
    }
    UNROLL for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xDD);
    }
}

__attribute__((target("avx512f"))) void dissect_pack_transposed_panel_avx512(
    const float *source, long rowStride, long k, long columns, float *panel) {
    long inner = 0;
    for (; inner + 16 <= k; inner += 16) {
        __m512 r[16];
        UNROLL for (int lane = 0; lane < 16; lane++)
            r[lane] = lane < columns ? _mm512_loadu_ps(source + lane * rowStride + inner) : _mm512_setzero_ps();
        transpose16(r);
        UNROLL for (int line = 0; line < 16; line++) _mm512_storeu_ps(panel + (inner + line) * 16, r[line]);
    }
    for (; inner < k; inner++)
        for (long lane = 0; lane < 16; lane++) panel[inner * 16 + lane] = lane < columns ? source[lane * rowStride + inner] : 0;
}

#else
// Other CPUs: the Swift kernels only.
int dissect_wide_vectors = 0;
int dissect_cpu_has_avx512(void) { return 0; }
void dissect_add_rows_times_panels_avx512(
    float *out, long outStride, const float *x, long xStride, const float *panels,
    long rows, long k, long n, int backwards) { abort(); }
void dissect_add_row_sets_times_panels_avx512(
    const dissect_row_set *sets, long setCount, const float *panels, long k, long n, int backwards) { abort(); }
void dissect_pack_transposed_panel_avx512(const float *source, long rowStride, long k, long columns, float *panel) { abort(); }
#endif
