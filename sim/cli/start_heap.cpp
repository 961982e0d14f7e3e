// Process start-up: the heap is made ready before any library's constructor runs.
//
// Why: on virtual machines a first-touch page fault costs microseconds (about 10 us each on the
// development VM, where the kernel's paravirtual interrupt path dominated the profile). A `swatsim`
// process used to take ~1,000 of them before main(): libsystemc's static constructors allocate and
// zero a 3 MB temporary heap (sc_dt's sc_temp_heap). glibc serves a block that large with a fresh
// mmap, and returns big blocks freed during the replay to the kernel, so each replay pass faulted
// its buffers in again. Measured with `scripts/bench.sh compare` (results/perf/compare.md, which
// times both ways): `swatsim --version` 20 -> 14 ms, the four-layer ResNet-50 `run` 75 -> 63 ms.
//
// What: blocks up to 64 MB come from the heap and freed memory stays there (up to 256 MB), and
// the first 8 MB of heap are populated in one madvise call, as transparent huge pages where the
// kernel allows them. That costs 8 MB of resident memory per process.
// SWATSIM_HEAP_PREPARE=0 in the environment turns it off (benchmarks measure both ways).
#include <malloc.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__SANITIZE_ADDRESS__)
#define SWATSIM_SANITIZED_HEAP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SWATSIM_SANITIZED_HEAP 1
#endif
#endif

namespace {

#ifndef MADV_POPULATE_WRITE
constexpr int MADV_POPULATE_WRITE = 23;  // Linux 5.14, <linux/mman.h>; older kernels return EINVAL
#endif

constexpr size_t kHeapBlocksUpTo = size_t(64) << 20;   // bytes: larger blocks are still mmap'ed
constexpr size_t kKeepFreedUpTo = size_t(256) << 20;   // bytes of free heap top kept, not trimmed
constexpr size_t kPopulated = size_t(8) << 20;         // bytes: libsystemc's 3 MB and a replay's buffers

bool disabled(char** env) {
  static const char kVar[] = "SWATSIM_HEAP_PREPARE=";
  for (char** e = env; e && *e; ++e)
    if (std::strncmp(*e, kVar, sizeof kVar - 1) == 0) return std::strcmp(*e + sizeof kVar - 1, "0") == 0;
  return false;
}

// Runs from the executable's .preinit_array: before the constructors of every shared library
// (libsystemc's included), when getenv is not yet usable, hence the envp argument.
void prepare_heap(int, char**, char** env) {
#ifdef SWATSIM_SANITIZED_HEAP
  (void)env;  // the sanitizer owns the heap
#else
  if (disabled(env)) return;
  mallopt(M_MMAP_THRESHOLD, int(kHeapBlocksUpTo));
  mallopt(M_TRIM_THRESHOLD, int(kKeepFreedUpTo));
  void* block = std::malloc(kPopulated);
  if (!block) return;
  const uintptr_t page = 4096;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(block) + page - 1) & ~(page - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(block) + kPopulated) & ~(page - 1);
  // Both are hints: on a kernel without THP or MADV_POPULATE_WRITE they fail and pages fault in
  // one by one as before.
  madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
  madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
  std::free(block);  // stays in the heap (trim threshold above), ready for the next allocations
#endif
}

}  // namespace

__attribute__((section(".preinit_array"), used)) static void (*const swatsim_prepare_heap)(int, char**, char**) =
    prepare_heap;
