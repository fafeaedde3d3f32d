// The only C the project sees: OpenBLAS's CBLAS interface (Debian libopenblas-dev),
// and the spin-wait hint `ThreadTeam`'s barrier needs (Swift has no spelling for it).
#include <cblas.h>

/// Tells the core it is in a spin-wait loop (x86 `pause`: saves power and lets the
/// other hyperthread run); nothing elsewhere.
static inline void dissect_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
