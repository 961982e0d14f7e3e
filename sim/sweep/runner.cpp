// Running a sweep: worker processes (a SystemC simulation cannot be restarted in one process), one
// `swatsim run` per (point, trace), results written atomically, so that a killed sweep resumes.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "../config/binding.hpp"
#include "layout.hpp"
#include "swatsim/common/atomic_file.hpp"
#include "swatsim/common/error.hpp"
#include "swatsim/sim/sweep.hpp"

namespace swatsim::sim {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;
namespace L = sweep_layout;

namespace {

void make_dirs(const std::string& out) {
  std::error_code ec;
  for (const char* sub : {"", "/points", "/tasks", "/failed", "/logs"}) {
    fs::create_directories(out + sub, ec);
    if (ec || !fs::is_directory(out + sub))
      throw InputError(out + sub, "cannot create the sweep directory: " + (ec ? ec.message() : "not a directory"));
  }
}

json sweep_meta(const Sweep& s) {
  json m;
  m["name"] = s.name;
  m["sweep_file"] = s.file;
  m["sweep_hash"] = s.hash;
  m["axes"] = s.axis_pointers();
  m["traces"] = s.traces;
  json points = json::array();
  for (uint64_t p = 0; p < s.points(); ++p) points.push_back(json{{"id", p}, {"axes", s.axis_values(p)}});
  m["points"] = points;
  return m;
}

}  // namespace

void claim_sweep_dir(const std::string& out, const json& meta) {
  const std::string meta_path = L::meta_file(out);
  const std::string hash = meta["sweep_hash"].get<std::string>(), name = meta.value("name", std::string("?"));
  std::error_code ec;
  if (fs::exists(out, ec) && !fs::is_directory(out, ec)) throw InputError(out, "is not a directory");
  fs::create_directories(out, ec);
  if (!fs::is_directory(out, ec)) throw InputError(out, "cannot create the sweep directory: " + ec.message());
  // The check and the stamp under one lock: two sweeps started on one new directory at once cannot
  // both find it free (the second finds the first's sweep.json and is refused).
  const bool had_lock = fs::exists(fs::path(out) / L::kLockFile, ec);
  const DirLock lock(out);
  struct DropLock {  // a refused directory that is not a sweep's keeps no lock file of ours
    const std::string path;
    bool keep = false;
    ~DropLock() {
      std::error_code e;
      if (!keep) fs::remove(path, e);
    }
  } drop{(fs::path(out) / L::kLockFile).string(), had_lock};
  if (fs::exists(meta_path, ec)) {
    drop.keep = true;  // a sweep's directory
    const json m = binding::read_json(meta_path);
    const auto theirs_it = m.is_object() ? m.find("sweep_hash") : m.end();
    const std::string theirs = theirs_it != m.end() && theirs_it->is_string() ? theirs_it->get<std::string>() : "?";
    if (theirs != hash)
      throw InputError(out, fmt::format("holds another sweep ('{}', hash {}); this is '{}' (hash {}): use another "
                                        "--out directory",
                                        m.is_object() && m.contains("name") && m["name"].is_string()
                                            ? m["name"].get<std::string>()
                                            : std::string("?"),
                                        theirs, name, hash));
    make_dirs(out);  // an interrupted first run may have left only sweep.json
    return;
  }
  // Without sweep.json a directory is taken only empty: the layout's folders may exist, empty (an
  // interrupted claim), but a task, point or log without the stamp that says whose it is (a killed
  // or sharded run that lost sweep.json) is never adopted by another sweep.
  std::vector<std::string> entries;  // sorted: the error names the same one on every file system
  for (const auto& e : fs::directory_iterator(out, ec)) entries.push_back(e.path().filename().string());
  std::sort(entries.begin(), entries.end());
  for (const std::string& entry : entries) {
    if (entry == L::kLockFile || entry.rfind("sweep.json.tmp.", 0) == 0) continue;
    const bool layout = entry == "points" || entry == "tasks" || entry == "failed" || entry == "logs";
    const fs::path path = fs::path(out) / entry;
    if (layout && fs::is_directory(path, ec) && fs::is_empty(path, ec)) continue;
    throw InputError(out, fmt::format("holds {} but no sweep.json (no stamp says which sweep it belongs to): use a new "
                                      "or empty --out directory",
                                      layout ? "results in " + entry + "/" : "'" + entry + "'"));
  }
  write_file_atomically(meta_path, [&](std::ostream& o) { o << meta.dump(1) << "\n"; });
  make_dirs(out);
  drop.keep = true;
}

namespace {

struct Task {
  uint64_t point, trace;
  std::string name;
};

std::string last_line(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last.empty() ? "(no message)" : last;
}

class Progress {
public:
  Progress(bool on, uint64_t total) : on_(on), total_(total), start_(std::chrono::steady_clock::now()) {}
  void show(uint64_t done, uint64_t failed) {
    if (!on_) return;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const uint64_t finished = done + failed;
    const double eta = finished ? elapsed / double(finished) * double(total_ - finished) : 0.0;
    const int width = 30, fill = total_ ? int(finished * width / total_) : width;
    std::cerr << fmt::format("\r[{}{}] {}/{} tasks, {} failed, {:.0f} s elapsed, ETA {:.0f} s ", std::string(size_t(fill), '#'),
                             std::string(size_t(width - fill), ' '), finished, total_, failed, elapsed, eta)
              << std::flush;
    if (finished == total_) std::cerr << "\n";
  }

private:
  bool on_;
  uint64_t total_;
  std::chrono::steady_clock::time_point start_;
};

/// Opens a task's log for its worker and locks it; -1 if another process holds the lock (a worker
/// of another run of this sweep is on the task now). Anything but a regular file there (a FIFO would
/// block) is replaced: the log belongs to the sweep directory.
int open_log(const std::string& log) {
  struct stat st {};
  if (::lstat(log.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    std::error_code ec;
    fs::remove_all(log, ec);
  }
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
  if (fd < 0) return -2;  // no log: the task still runs, its stderr goes nowhere
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return -1;
  }
  if (::ftruncate(fd, 0) != 0) { /* an old log's text stays: harmless */ }
  return fd;
}

pid_t spawn(const std::vector<std::string>& argv, int err, const SweepRunSettings& o) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::cout.flush();
  std::cerr.flush();
  // The worker's stderr is its log, locked for as long as the worker lives: `sweep status` tells a
  // running task from a missing one by that lock.
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (pid > 0 && err >= 0) ::close(err);  // the worker's copy keeps the lock
  if (pid == 0) {
    // A worker dies with its sweep (killed or interrupted): never an orphan that writes a result a
    // resumed run is also computing.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    const int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
    }
    if (err >= 0) ::dup2(err, 2);
    else if (null >= 0) ::dup2(null, 2);
    if (o.run_in_fork) {
      // The parent has not started a SystemC simulation: the child elaborates and runs its own.
      int rc = 1;
      try {
        rc = o.run_in_fork(std::vector<std::string>(argv.begin() + 1, argv.end()));
      } catch (...) {
      }
      std::cout.flush();
      std::cerr.flush();
      ::_exit(rc);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace

void prepare_sweep_dir(const Sweep& s, const std::string& out) { claim_sweep_dir(out, sweep_meta(s)); }

DirLock::DirLock(const std::string& dir) {
  const std::string path = dir + "/" + L::kLockFile;
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw InputError(path, std::string("cannot open the sweep directory's lock: ") + std::strerror(errno));
  while (::flock(fd_, LOCK_EX) != 0)
    if (errno != EINTR) {
      ::close(fd_);
      throw InputError(path, std::string("cannot lock the sweep directory: ") + std::strerror(errno));
    }
}
DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

uint64_t run_sweep(const Sweep& s, const SweepRunSettings& o) {
  prepare_sweep_dir(s, o.out);
  std::vector<Task> todo;
  uint64_t failed = 0, done = 0, total = 0;
  for (uint64_t p = 0; p < s.points(); ++p) {
    if (p % o.shards != o.shard) continue;
    const std::string pf = L::point_file(o.out, p);
    if (!fs::exists(pf)) write_file_atomically(pf, [&](std::ostream& out) { out << s.point_config(p).dump(2) << "\n"; });
    for (uint64_t t = 0; t < s.traces.size(); ++t) {
      Task task{p, t, L::task_name(p, t)};
      ++total;
      if (L::task_done(o.out, task.name)) {
        ++done;
        continue;
      }
      if (fs::exists(L::failed_file(o.out, task.name))) {
        if (!o.retry_failed) {
          ++failed;
          continue;
        }
        fs::remove(L::failed_file(o.out, task.name));
      }
      todo.push_back(task);
    }
  }
  // Temporaries of killed workers (*.tmp.PID) are never read as results. They are left alone: a
  // shard on another machine may be writing one right now into a shared directory.
  Progress bar(o.progress, total);
  bar.show(done, failed);
  using Clock = std::chrono::steady_clock;
  struct Running {
    Task task;
    Clock::time_point start;
    bool timed_out = false;
  };
  std::map<pid_t, Running> running;
  size_t next = 0;
  uint64_t busy = 0;  // tasks another run of this sweep was running when this one came to them
  while (next < todo.size() || !running.empty()) {
    while (running.size() < o.jobs && next < todo.size()) {
      const Task& t = todo[next++];
      const int log = open_log(L::log_file(o.out, t.name));
      if (log == -1) {  // another run's worker is on it: its result (or failure) will be there
        ++busy;
        continue;
      }
      std::vector<std::string> argv{o.swatsim, "run", "--arch", L::point_file(o.out, t.point), "--trace",
                                    s.trace_paths[t.trace], "--out", L::task_file(o.out, t.name), "-q"};
      for (const auto& a : s.run.run_args()) argv.push_back(a);
      running.emplace(spawn(argv, log, o), Running{t, Clock::now()});
    }
    int status = 0;
    // With a time limit, poll: a worker past it is killed (and reaped below as timed out).
    const pid_t pid = ::waitpid(-1, &status, o.task_timeout_s > 0 ? WNOHANG : 0);
    if (pid == 0) {
      for (auto& [p, r] : running)
        if (!r.timed_out && std::chrono::duration<double>(Clock::now() - r.start).count() > o.task_timeout_s) {
          r.timed_out = true;
          ::kill(p, SIGKILL);
        }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("waitpid failed: ") + std::strerror(errno));
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const Task t = it->second.task;
    const bool timed_out = it->second.timed_out;
    running.erase(it);
    // A complete report is a result, even from a worker killed at the time limit just after it wrote it.
    const bool ok = L::task_done(o.out, t.name) && (timed_out || (WIFEXITED(status) && WEXITSTATUS(status) == 0));
    if (ok) {
      ++done;
    } else {
      ++failed;
      json f;
      f["task"] = t.name;
      f["point"] = t.point;
      f["trace"] = s.traces[t.trace];
      f["status"] = timed_out ? fmt::format("timed out after {} s (--task-timeout)", o.task_timeout_s)
                    : WIFSIGNALED(status)
                        ? fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)))
                        : fmt::format("exit {}", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
      f["message"] = timed_out ? std::string("the worker ran past the time limit and was killed")
                               : last_line(L::log_file(o.out, t.name));
      write_file_atomically(L::failed_file(o.out, t.name), [&](std::ostream& out) {
        out << f.dump(1, ' ', false, json::error_handler_t::replace) << "\n";  // a log's bytes need not be UTF-8
      });
    }
    bar.show(done, failed);
  }
  if (o.shards == 1) failed += write_sweep_tables(o.out);
  return failed + busy;
}

}  // namespace swatsim::sim
