#pragma once
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <unistd.h>

#include "swatsim/traces/format.hpp"

namespace swatsim::traces::test {

// Scratch files live in the build tree (SWATSIM_TEST_TMP), one folder per test process.
inline std::string temp_path(const std::string& name) {
  auto dir = std::filesystem::path(SWATSIM_TEST_TMP) / std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void spit(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

inline LayerInfo make_conv(std::string name, uint32_t n, uint32_t c, uint32_t h, uint32_t w, uint32_t k,
                           uint32_t r, uint32_t s, uint32_t stride, uint32_t pad, uint32_t groups = 1) {
  LayerInfo l;
  l.name = std::move(name);
  l.N = n, l.C = c, l.H = h, l.W = w, l.K = k, l.R = r, l.S = s, l.stride = stride, l.padding = pad;
  l.groups = groups;
  l.Ho = l.expected_ho();
  l.Wo = l.expected_wo();
  return l;
}

}  // namespace swatsim::traces::test
