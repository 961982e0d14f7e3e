#pragma once
// Outputs are never half-written: write to PATH.tmp, rename over PATH only when complete.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "swatsim/common/error.hpp"

namespace swatsim {

inline void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw InputError(path, "cannot open for writing");
    write(f);
    f.flush();
    if (!f) {
      f.close();
      std::remove(tmp.c_str());
      throw InputError(path, "write failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw InputError(path, "cannot rename into place: " + ec.message());
  }
}

}  // namespace swatsim
