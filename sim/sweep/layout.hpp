#pragma once
// The layout of a sweep output directory (docs/sweeps.md):
//   sweep.json              identity (the sweep file's hash), axes, traces, points and their axis values
//   points/pNNNNNN.json      the resolved config of each point
//   tasks/pNNNNNN-tTTT.json  the `swatsim run` report of a finished (point, trace): written atomically
//   failed/pNNNNNN-tTTT.json a failed task: status and message
//   logs/pNNNNNN-tTTT.log    the worker's stderr
//   results.csv, results.jsonl, totals.csv   the tables, rebuilt from tasks/
#include <cstdint>
#include <string>

#include <fmt/format.h>

namespace swatsim::sim::sweep_layout {

inline std::string task_name(uint64_t point, uint64_t trace) { return fmt::format("p{:06d}-t{:03d}", point, trace); }
inline std::string point_file(const std::string& dir, uint64_t point) {
  return fmt::format("{}/points/p{:06d}.json", dir, point);
}
inline std::string task_file(const std::string& dir, const std::string& task) { return dir + "/tasks/" + task + ".json"; }
inline std::string failed_file(const std::string& dir, const std::string& task) {
  return dir + "/failed/" + task + ".json";
}
inline std::string log_file(const std::string& dir, const std::string& task) { return dir + "/logs/" + task + ".log"; }
inline std::string meta_file(const std::string& dir) { return dir + "/sweep.json"; }

}  // namespace swatsim::sim::sweep_layout
