// Streaming read throughput: masks of a trace read one after another on one core.
// Usage: trace_read_bench TRACE [REPEATS]. Prints one JSON object.
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "swatsim/common/error.hpp"
#include "swatsim/traces/io.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: trace_read_bench TRACE [REPEATS]\n");
    return 2;
  }
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
  try {
    swatsim::traces::TraceReader reader(argv[1]);
    swatsim::traces::Mask mask;
    uint64_t bitmap = 0, stored = 0, nnz = 0;
    double best = 1e30;
    for (int rep = 0; rep < repeats; ++rep) {
      bitmap = stored = nnz = 0;
      const auto t0 = std::chrono::steady_clock::now();
      for (const auto& r : reader.records()) {
        reader.read_into(r, mask, nullptr);
        bitmap += r.bitmap_bytes();
        stored += r.stored_size;
        nnz += mask.count();
      }
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::printf("%s\n", fmt::format("{{\"trace\": \"{}\", \"tensors\": {}, \"bitmap_bytes\": {}, \"stored_bytes\": {}, "
                                    "\"nnz\": {}, \"best_seconds\": {:.6f}, \"bitmap_mb_per_s\": {:.1f}}}",
                                    argv[1], reader.records().size(), bitmap, stored, nnz, best, bitmap / best / 1e6)
                            .c_str());
  } catch (const swatsim::InputError& e) {
    std::fprintf(stderr, "trace_read_bench: %s\n", e.what());
    return 2;
  }
  return 0;
}
