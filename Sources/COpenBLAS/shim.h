// The only C the project sees: OpenBLAS's CBLAS interface (Debian libopenblas-dev).
#include <cblas.h>
