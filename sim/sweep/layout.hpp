#pragma once
// The layout of a sweep output directory (docs/sweeps.md):
//   sweep.json              identity (the sweep file's hash), axes, traces, points and their axis values
//   points/pNNNNNN.json      the resolved config of each point
//   tasks/pNNNNNN-tTTT.json  the `swatsim run` report of a finished (point, trace): written atomically
//   failed/pNNNNNN-tTTT.json a failed task: status and message
//   logs/pNNNNNN-tTTT.log    the worker's stderr
//   results.csv, results.jsonl, totals.csv   the tables, rebuilt from tasks/
#include <cstdint>
#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace swatsim::sim::sweep_layout {

inline std::string task_name(uint64_t point, uint64_t trace) { return fmt::format("p{:06d}-t{:03d}", point, trace); }
inline std::string point_file(const std::string& dir, uint64_t point) {
  return fmt::format("{}/points/p{:06d}.json", dir, point);
}
inline std::string task_file(const std::string& dir, const std::string& task) { return dir + "/tasks/" + task + ".json"; }
/// A task is done when its report is there and not empty (a file truncated by a full disk before
/// the atomic rename never appears; an empty one was made by hand or by another tool).
inline bool task_done(const std::string& dir, const std::string& task) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(task_file(dir, task), ec);
  return !ec && size > 0;
}
inline std::string failed_file(const std::string& dir, const std::string& task) {
  return dir + "/failed/" + task + ".json";
}
inline std::string log_file(const std::string& dir, const std::string& task) { return dir + "/logs/" + task + ".log"; }
inline std::string meta_file(const std::string& dir) { return dir + "/sweep.json"; }
/// The file whose flock serialises claiming the directory (`DirLock`).
inline constexpr const char* kLockFile = ".lock";

}  // namespace swatsim::sim::sweep_layout

namespace swatsim::sim {
/// An exclusive flock on DIR/.lock for the object's life (waits for another holder).
class DirLock {
public:
  explicit DirLock(const std::string& dir);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

private:
  int fd_ = -1;
};
/// Stamps `out` with a sweep's identity (`meta`: sweep.json's content) or checks that it holds that
/// sweep; refuses a directory that holds anything else (docs/sweeps.md, Sweep directories).
void claim_sweep_dir(const std::string& out, const nlohmann::ordered_json& meta);
}  // namespace swatsim::sim

namespace swatsim::sim::sweep_layout {

}  // namespace swatsim::sim::sweep_layout
