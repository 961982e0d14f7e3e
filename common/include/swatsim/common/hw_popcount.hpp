#pragma once
// SWATSIM_HW_POPCOUNT before a function that counts bits: GCC builds it twice, with the popcnt
// instruction and for plain x86-64, and picks one when the program loads (an ifunc). The
// portable build otherwise calls libgcc's software __popcountdi2, which was 3-5% of a TensorDash
// replay (results/perf/compare.md). Clang 14 (the fuzz build) does not take target_clones on
// these functions and gets the portable version.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define SWATSIM_HW_POPCOUNT __attribute__((target_clones("popcnt", "default")))
#else
#define SWATSIM_HW_POPCOUNT
#endif
