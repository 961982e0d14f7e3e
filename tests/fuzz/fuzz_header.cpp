// The trace header JSON (strict parsing, every key and range) and the layer checks behind it.
#include "fuzz_util.hpp"
#include "layout.hpp"
#include "swatsim/common/strict_json.hpp"
#include "swatsim/traces/tools.hpp"

int sc_main(int, char*[]) { return 0; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  fuzzutil::expect_only_input_errors([&] {
    nlohmann::json j;
    try {
      j = swatsim::parse_json_strict<nlohmann::json>(text, "header");
    } catch (const nlohmann::json::exception&) {
      return;  // the reader turns this into "header is not valid JSON"
    }
    const auto h = swatsim::traces::layout::header_from_json(j, "header");
    (void)swatsim::traces::check_swat(h.swat);
    for (const auto& l : h.layers) (void)swatsim::traces::check_layer(l);
  });
  return 0;
}
