// Accelerator configs (every slot: pe, memory, dram, energy) from arbitrary JSON text.
#include "fuzz_util.hpp"
#include "swatsim/sim/config.hpp"

int sc_main(int, char*[]) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzzutil::write("config.json", data, size);
  fuzzutil::expect_only_input_errors([&] {
    const auto c = swatsim::sim::load_accelerator_config(path);
    (void)swatsim::sim::to_json(c).dump();
  });
  return 0;
}
