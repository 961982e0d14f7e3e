// NumPy dumps: the fuzz input is one layer's input-activation .npy beside valid weights and gradient
// (import-npy reads, checks and converts it); inputs starting with "L:" are a layers.csv instead.
#include <vector>

#include "fuzz_util.hpp"
#include "swatsim/traces/tools.hpp"

int sc_main(int, char*[]) { return 0; }

namespace {
// A little-endian float32 C-order .npy of `shape`, values 0 and 1 in a fixed pattern.
std::string npy(const std::vector<uint32_t>& shape) {
  std::string dims;
  size_t n = 1;
  for (uint32_t d : shape) {
    dims += std::to_string(d) + ", ";
    n *= d;
  }
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string out = std::string("\x93NUMPY\x01\x00", 8);
  out += char(header.size() & 0xff);
  out += char(header.size() >> 8);
  out += header;
  for (size_t i = 0; i < n; ++i) {
    const float v = i % 3 ? 1.0f : 0.0f;
    out.append(reinterpret_cast<const char*>(&v), 4);
  }
  return out;
}
void put(const std::string& dir, const std::string& name, const std::string& bytes) {
  fuzzutil::write(dir + "/" + name, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool made = [] {
    std::filesystem::create_directories(fuzzutil::scratch() + "/dump");
    return true;
  }();
  (void)made;
  const std::string dir = fuzzutil::scratch() + "/dump";
  // conv1: N=2, C=3, 5x5, K=4, 3x3, stride 1, padding 1.
  put("dump", "conv1-wgt.npy", npy({4, 3, 3, 3}));
  put("dump", "conv1-grad.npy", npy({2, 4, 5, 5}));
  if (size >= 2 && data[0] == 'L' && data[1] == ':') {
    put("dump", "conv1-act.npy", npy({2, 3, 5, 5}));
    fuzzutil::write("dump/layers.csv", data + 2, size - 2);
  } else {
    put("dump", "layers.csv", "conv1,1,1\n");
    fuzzutil::write("dump/conv1-act.npy", data, size);
  }
  fuzzutil::expect_only_input_errors([&] {
    swatsim::traces::import_npy(dir, fuzzutil::scratch() + "/out.swt", swatsim::traces::npy_default_options(dir));
  });
  return 0;
}
