#pragma once
// Outputs are never half-written: data go to PATH.tmp.PID, which is flushed to disk and renamed over
// PATH only by commit(). An AtomicFile destroyed before commit() (an exception, an error) removes
// its temporary, and so does SIGINT or SIGTERM; a SIGKILLed process leaves only the temporary, never
// a partial PATH, and the next AtomicFile for PATH removes temporaries of processes that are gone.
// A PATH that is a character device or FIFO (/dev/null, /dev/stdout, a pipe) is written directly:
// renaming over it would replace the device with a regular file. "-" is standard output.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <functional>
#include <iostream>
#include <string>

#include "swatsim/common/error.hpp"

namespace swatsim {

namespace detail {
// The temporaries being written, for the signal handler: a fixed table of C strings, so that the
// handler only reads memory and calls unlink (async-signal-safe).
inline constexpr int kMaxTemporaries = 32;
inline char g_temporaries[kMaxTemporaries][4096];
inline volatile std::sig_atomic_t g_temporary_used[kMaxTemporaries];  ///< 1: a file, 2: a directory tree

inline void remove_temporaries_and_reraise(int sig) {
  for (int i = 0; i < kMaxTemporaries; ++i) {
    if (g_temporary_used[i] == 1) ::unlink(g_temporaries[i]);
    if (g_temporary_used[i] == 2) {
      // A directory tree: fork, execve and waitpid are async-signal-safe, a recursive walk is not.
      const pid_t pid = ::fork();
      if (pid == 0) {
        char rm[] = "/bin/rm", rf[] = "-rf", dashes[] = "--";
        char* argv[] = {rm, rf, dashes, g_temporaries[i], nullptr};
        char* envp[] = {nullptr};
        ::execve(rm, argv, envp);
        ::_exit(127);
      }
      if (pid > 0) ::waitpid(pid, nullptr, 0);
    }
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

/// Registers a temporary for removal on SIGINT/SIGTERM (a file, or with `directory` a whole tree);
/// returns its slot for unregister_temporary.
inline int register_temporary(const std::string& path, bool directory = false) {
  static const bool installed = [] {
    for (int sig : {SIGINT, SIGTERM}) {
      struct sigaction sa {};
      struct sigaction old {};
      if (::sigaction(sig, nullptr, &old) == 0 && old.sa_handler != SIG_DFL) continue;  // someone else's
      sa.sa_handler = &remove_temporaries_and_reraise;
      sigemptyset(&sa.sa_mask);
      ::sigaction(sig, &sa, nullptr);
    }
    return true;
  }();
  (void)installed;
  if (path.size() >= sizeof g_temporaries[0]) return -1;
  for (int i = 0; i < kMaxTemporaries; ++i)
    if (!g_temporary_used[i]) {
      std::memcpy(g_temporaries[i], path.c_str(), path.size() + 1);
      std::atomic_signal_fence(std::memory_order_release);  // the name before the flag, for the handler
      g_temporary_used[i] = directory ? 2 : 1;
      return i;
    }
  return -1;  // more at once than the table holds: only the SIGINT cleanup is lost
}

inline void unregister_temporary(int slot) {
  if (slot >= 0) g_temporary_used[slot] = 0;
}

/// This machine's name, part of a temporary's name: a process id means something on one host only
/// (shards of a sweep on other nodes may write temporaries into the same shared directory).
inline const std::string& host_name() {
  static const std::string name = [] {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || !buf[0]) return std::string("host");
    std::string n(buf);
    for (char& c : n)
      if (c == '/' || c == '.') c = '_';
    return n;
  }();
  return name;
}

/// Removes PATH.tmp.HOST.PID files of this host's processes that no longer exist.
inline void remove_stale_temporaries(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p(path);
  const std::string prefix = p.filename().string() + ".tmp." + host_name() + ".";
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string pid = name.substr(prefix.size());
    if (pid.find_first_not_of("0123456789") != std::string::npos || pid.size() > 9) continue;
    if (::kill(pid_t(std::stol(pid)), 0) != 0 && errno == ESRCH) fs::remove(e.path(), ec);
  }
}
}  // namespace detail

class AtomicFile {
public:
  explicit AtomicFile(std::string path) : path_(std::move(path)) {
    namespace fs = std::filesystem;
    if (path_.empty()) throw InputError("output", "expected a file path, got an empty string");
    if (path_ == "-") {  // standard output, as it is (a terminal, a pipe or a file)
      stdout_ = direct_ = true;
      return;
    }
    std::error_code ec;
    if (fs::is_symlink(path_, ec)) {  // write next to the target and rename over it, not over the link
      const fs::path target = fs::weakly_canonical(path_, ec);
      if (!ec) path_ = target.string();
    }
    tmp_ = path_ + ".tmp." + detail::host_name() + "." + std::to_string(::getpid());
    const auto st = fs::status(path_, ec);
    if (fs::is_directory(st)) throw InputError(path_, "is a directory, cannot write a file there");
    if (fs::is_block_file(st) || fs::is_socket(st))
      throw InputError(path_, fs::is_socket(st) ? "is a socket, cannot write a file there"
                                                : "is a block device, cannot write a file there");
    int probe = -1;  // held open until the stream is: closing it first would end the reader's input
    if (fs::is_character_file(st) || fs::is_fifo(st)) {
      if (fs::is_fifo(st)) {  // a pipe nobody reads would block forever
        probe = ::open(path_.c_str(), O_WRONLY | O_NONBLOCK);
        if (probe < 0 && errno == ENXIO) throw InputError(path_, "is a FIFO with no reader");
      }
      direct_ = true;  // write into the device or pipe itself
      tmp_ = path_;
    } else {
      detail::remove_stale_temporaries(path_);
      slot_ = detail::register_temporary(tmp_);
    }
    out_.open(tmp_, std::ios::binary | (direct_ ? std::ios::out : std::ios::trunc | std::ios::out));
    if (probe >= 0) ::close(probe);
    if (!out_) {
      detail::unregister_temporary(slot_);
      throw InputError(path_, std::string("cannot open for writing: ") + std::strerror(errno));
    }
  }
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile() {
    if (out_.is_open()) out_.close();
    if (!committed_ && !direct_) std::remove(tmp_.c_str());
    detail::unregister_temporary(slot_);
  }

  std::ostream& stream() { return stdout_ ? std::cout : out_; }
  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return tmp_; }

  /// Flushes, checks, syncs and closes the temporary; throws InputError if any write failed.
  void close_temp() {
    if (stdout_) {
      std::cout.flush();
      if (!std::cout) throw InputError("standard output", "write failed");
      return;
    }
    if (!out_.is_open()) return;
    out_.flush();
    const bool ok = bool(out_);
    out_.close();
    if (!ok || out_.fail()) throw InputError(path_, "write failed (disk full?)");
    if (direct_) return;
    const int fd = ::open(tmp_.c_str(), O_RDONLY);
    const bool synced = fd >= 0 && ::fsync(fd) == 0;
    if (fd >= 0) ::close(fd);
    if (!synced) throw InputError(path_, std::string("cannot sync to disk: ") + std::strerror(errno));
  }

  /// close_temp(), then renames the temporary over the path.
  void commit() {
    close_temp();
    if (!direct_) {
      std::error_code ec;
      std::filesystem::rename(tmp_, path_, ec);
      if (ec) throw InputError(path_, "cannot rename into place: " + ec.message());
    }
    committed_ = true;
    detail::unregister_temporary(slot_);
    slot_ = -1;
  }

private:
  std::string path_, tmp_;
  std::ofstream out_;
  bool committed_ = false, direct_ = false, stdout_ = false;
  int slot_ = -1;
};

inline void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  AtomicFile f(path);
  write(f.stream());
  f.commit();
}

}  // namespace swatsim
