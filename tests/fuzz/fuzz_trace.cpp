// The trace reader and validator on mutated traces (checksums are not checked in the fuzz build, so
// mutations reach the parsers behind them): open, validate, read every tensor.
#include "fuzz_util.hpp"
#include "swatsim/traces/io.hpp"
#include "swatsim/traces/tools.hpp"

int sc_main(int, char*[]) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzzutil::write("t.swt", data, size);
  fuzzutil::expect_only_input_errors([&] { (void)swatsim::traces::validate(path); });
  fuzzutil::expect_only_input_errors([&] {
    swatsim::traces::TraceReader r(path);
    swatsim::traces::Mask m;
    std::vector<float> values;
    for (const auto& rec : r.records()) r.read_into(rec, m, &values);
  });
  return 0;
}
