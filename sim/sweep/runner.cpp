// Running a sweep: worker processes (a SystemC simulation cannot be restarted in one process), one
// `swatsim run` per (point, trace), results written atomically, so that a killed sweep resumes.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

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

/// Records this sweep in the directory, or checks that the directory holds this sweep.
void claim(const Sweep& s, const std::string& out) {
  const std::string meta = L::meta_file(out);
  std::error_code ec;
  if (fs::exists(meta, ec)) {
    const json m = binding::read_json(meta);
    const auto hash = m.is_object() ? m.find("sweep_hash") : m.end();
    const std::string theirs = hash != m.end() && hash->is_string() ? hash->get<std::string>() : "?";
    if (theirs != s.hash)
      throw InputError(out, fmt::format("holds another sweep ('{}', hash {}); this is '{}' (hash {}): use another "
                                        "--out directory",
                                        m.is_object() && m.contains("name") && m["name"].is_string()
                                            ? m["name"].get<std::string>()
                                            : std::string("?"),
                                        theirs, s.name, s.hash));
    return;
  }
  if (fs::exists(out, ec) && !fs::is_directory(out, ec)) throw InputError(out, "is not a directory");
  // Another directory's files are never mixed with a sweep's; a shard starting at the same moment
  // may have created the layout and be writing sweep.json.
  for (const auto& e : fs::directory_iterator(out, ec)) {
    const std::string name = e.path().filename().string();
    if (name != "points" && name != "tasks" && name != "failed" && name != "logs" && name.rfind("sweep.json.tmp.", 0) != 0)
      throw InputError(out, "is not empty and holds no sweep (no sweep.json): use a new or empty --out directory");
  }
  make_dirs(out);
  write_file_atomically(meta, [&](std::ostream& o) { o << sweep_meta(s).dump(1) << "\n"; });
}

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

pid_t spawn(const std::vector<std::string>& argv, const std::string& log, const SweepRunSettings& o) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::cout.flush();
  std::cerr.flush();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    const int null = ::open("/dev/null", O_RDWR);
    const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
    }
    if (err >= 0) ::dup2(err, 2);
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

void prepare_sweep_dir(const Sweep& s, const std::string& out) {
  claim(s, out);
  make_dirs(out);  // an interrupted first run may have left only sweep.json
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
      if (fs::exists(L::task_file(o.out, task.name))) {
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
  std::map<pid_t, Task> running;
  size_t next = 0;
  while (next < todo.size() || !running.empty()) {
    while (running.size() < o.jobs && next < todo.size()) {
      const Task& t = todo[next++];
      std::vector<std::string> argv{o.swatsim, "run", "--arch", L::point_file(o.out, t.point), "--trace",
                                    s.trace_paths[t.trace], "--out", L::task_file(o.out, t.name), "-q"};
      for (const auto& a : s.run.run_args()) argv.push_back(a);
      running.emplace(spawn(argv, L::log_file(o.out, t.name), o), t);
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("waitpid failed: ") + std::strerror(errno));
    }
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const Task t = it->second;
    running.erase(it);
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && fs::exists(L::task_file(o.out, t.name));
    if (ok) {
      ++done;
    } else {
      ++failed;
      json f;
      f["task"] = t.name;
      f["point"] = t.point;
      f["trace"] = s.traces[t.trace];
      f["status"] = WIFSIGNALED(status) ? fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)))
                                        : fmt::format("exit {}", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
      f["message"] = last_line(L::log_file(o.out, t.name));
      write_file_atomically(L::failed_file(o.out, t.name), [&](std::ostream& out) { out << f.dump(1) << "\n"; });
    }
    bar.show(done, failed);
  }
  if (o.shards == 1) write_sweep_tables(o.out);
  return failed;
}

}  // namespace swatsim::sim
