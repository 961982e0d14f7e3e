#pragma once
// Outputs are never half-written: data go to PATH.tmp.PID, which is flushed to disk and renamed over
// PATH only by commit(). An AtomicFile destroyed before commit() (an exception, an error) removes
// its temporary; a killed process leaves only the temporary, never a partial PATH.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "swatsim/common/error.hpp"

namespace swatsim {

class AtomicFile {
public:
  explicit AtomicFile(std::string path)
      : path_(std::move(path)), tmp_(path_ + ".tmp." + std::to_string(::getpid())) {
    std::error_code ec;
    if (std::filesystem::is_directory(path_, ec)) throw InputError(path_, "is a directory, cannot write a file there");
    out_.open(tmp_, std::ios::binary | std::ios::trunc);
    if (!out_) throw InputError(path_, std::string("cannot open for writing: ") + std::strerror(errno));
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile() {
    if (out_.is_open()) out_.close();
    if (!committed_) std::remove(tmp_.c_str());
  }

  std::ostream& stream() { return out_; }
  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return tmp_; }

  /// Flushes, checks, syncs and closes the temporary; throws InputError if any write failed.
  void close_temp() {
    if (!out_.is_open()) return;
    out_.flush();
    const bool ok = bool(out_);
    out_.close();
    if (!ok || out_.fail()) throw InputError(path_, "write failed (disk full?)");
    const int fd = ::open(tmp_.c_str(), O_RDONLY);
    const bool synced = fd >= 0 && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!synced) throw InputError(path_, std::string("cannot sync to disk: ") + std::strerror(errno));
  }

  /// close_temp(), then renames the temporary over the path.
  void commit() {
    close_temp();
    std::error_code ec;
    std::filesystem::rename(tmp_, path_, ec);
    if (ec) throw InputError(path_, "cannot rename into place: " + ec.message());
    committed_ = true;
  }

private:
  std::string path_, tmp_;
  std::ofstream out_;
  bool committed_ = false;
};

inline void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  AtomicFile f(path);
  write(f.stream());
  f.commit();
}

}  // namespace swatsim
