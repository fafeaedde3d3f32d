// The AVX-512 versions of DissectKernels' widest loop, the panel product, and of the packing
// of a transposed matrix into its panels, in C because Swift cannot compile one function for
// a wider vector unit than the rest of the module. Each computes exactly the operations of its
// Swift twin (the same fused multiply-add chain per output; the same values moved), so results
// are bit-identical whichever runs; `dissect_wide_vectors`
// says which does, chosen once per process.
#ifndef DISSECT_CKERNELS_H
#define DISSECT_CKERNELS_H

/// 1 when this CPU and OS run AVX-512F and DISSECT_VECTOR_BITS is not 256; then
/// DissectKernels calls the functions below. Set once, before `main`; read it through
/// `dissect_use_wide_vectors` (Swift cannot read a mutable C global safely).
extern int dissect_wide_vectors;
static inline int dissect_use_wide_vectors(void) { return dissect_wide_vectors; }

/// Whether the CPU and OS could run the AVX-512 kernels at all (tests compare both paths when they can).
int dissect_cpu_has_avx512(void);

/// out[r, 0..<n] += Σ_i x[r, i] · W[i, 0..<n] for r in 0..<rows, W in column panels of 16
/// (`Kernels.packPanels`: panel p holds W[0..<k, 16p..<16p+16], zero past n). Each output
/// element is one fused multiply-add chain over i = 0 … k−1 from zero, then added to out.
/// Shapes: out [rows, outStride ≥ n], x [rows, xStride ≥ k], panels ⌈n/16⌉·k·16.
/// backwards: visit the panels from the last (cache reuse only; the values do not change).
void dissect_add_rows_times_panels_avx512(
    float *out, long outStride, const float *x, long xStride, const float *panels,
    long rows, long k, long n, int backwards);

/// Rows of one product that live in different buffers (e.g. the sentences of two shards):
/// row r of the set is out + r·outStride and x + r·xStride.
typedef struct {
    float *out;
    const float *x;
    long outStride;
    long xStride;
    long rows;
} dissect_row_set;

/// `dissect_add_rows_times_panels_avx512` for every row of `setCount` sets at once: each line
/// of the panels is loaded once for up to twelve rows, whichever set they come from.
void dissect_add_row_sets_times_panels_avx512(
    const dissect_row_set *sets, long setCount, const float *panels, long k, long n, int backwards);

/// One panel of `Kernels.packPanels` from a matrix stored `[n, k]` (transposed):
/// panel[i·16 + lane] = source[lane·rowStride + i] for lane < columns (1…16), else 0, i in 0..<k.
/// Sixteen rows at a time through a register transpose; the same values as the Swift loop.
void dissect_pack_transposed_panel_avx512(const float *source, long rowStride, long k, long columns, float *panel);

#endif
