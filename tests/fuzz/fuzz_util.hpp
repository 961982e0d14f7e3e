#pragma once
// Shared by the libFuzzer harnesses (tests/fuzz/README.md): a private scratch directory, files
// written from the fuzz input, and the one rule every harness checks: bad input may only end in an
// InputError (one line, exit 2 in the commands); any other exception, crash, leak or sanitizer
// report is a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "swatsim/common/error.hpp"

// libsystemc.so defines main() and needs sc_main; the harnesses run under libFuzzer's main.
extern "C" int sc_main(int, char*[]);  // C linkage, as libsystemc declares it

namespace fuzzutil {

inline const std::string& scratch() {
  // A plain char buffer for the exit handler: it runs after static strings are destroyed.
  static char path[4096];
  static const std::string dir = [] {
    std::string t = (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") + std::string("/swatsim-fuzz.XXXXXX");
    if (t.size() >= sizeof path || !::mkdtemp(t.data())) std::abort();
    std::memcpy(path, t.c_str(), t.size() + 1);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    });
    return t;
  }();
  return dir;
}

inline std::string write(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = scratch() + "/" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return path;
}

/// Runs `body`; an InputError is the expected answer to bad input, anything else escapes.
template <class F>
void expect_only_input_errors(F&& body) {
  try {
    body();
  } catch (const swatsim::InputError&) {
  }
}

}  // namespace fuzzutil
