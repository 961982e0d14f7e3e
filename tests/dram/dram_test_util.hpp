#pragma once
// Helpers for the DRAM tests: presets with overrides, and a recorder of commands and completions.
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "swatsim/arch/dram.hpp"
#include "swatsim/sim/dram_config.hpp"

namespace swatsim::test {

using arch::dram::CommandRecord;
using arch::dram::Cycle;
using arch::dram::Location;
using arch::dram::Spec;
using arch::dram::System;
using json = nlohmann::ordered_json;

/// The engine the DRAM tests run on: ctest runs every test once per engine
/// (SWATSIM_TEST_DRAM_ENGINE=fast for the second run, tests/dram/CMakeLists.txt).
inline std::string test_engine() {
  const char* e = std::getenv("SWATSIM_TEST_DRAM_ENGINE");
  return e && *e ? e : "cycle";
}
inline bool fast_engine() { return test_engine() == "fast"; }

inline Spec preset(const std::string& name, json overrides = json::object()) {
  overrides["preset"] = name;
  if (!overrides.contains("engine")) overrides["engine"] = test_engine();
  return sim::bind_dram_config(overrides, "test", "", ".").spec;
}

/// A System that records every command and every completion.
struct Recorder {
  explicit Recorder(const Spec& spec, uint32_t per_cycle = 1) : sys(spec, per_cycle) {
    sys.on_command([](void* c, const CommandRecord& r) { static_cast<Recorder*>(c)->commands.push_back(r); }, this);
    sys.on_complete(
        [](void* c, uint64_t id, Cycle done) {
          auto& self = *static_cast<Recorder*>(c);
          EXPECT_EQ(self.done.count(id), 0u) << "request " << id << " completed twice";
          self.done[id] = done;
        },
        this);
  }
  uint64_t address(uint32_t rank, uint32_t bankgroup, uint32_t bank, uint64_t row, uint64_t column,
                   uint32_t channel = 0) const {
    Location l;
    l.channel = channel;
    l.rank = rank;
    l.bankgroup = bankgroup;
    l.bank = bank;
    l.row = row;
    l.column = column;
    return sys.mapping().encode(l);
  }
  /// Cycles of the commands of one kind, in issue order.
  std::vector<Cycle> at(CommandRecord::Kind kind) const {
    std::vector<Cycle> out;
    for (const auto& c : commands)
      if (c.kind == kind) out.push_back(c.cycle);
    return out;
  }
  System sys;
  std::vector<CommandRecord> commands;
  std::map<uint64_t, Cycle> done;
};

}  // namespace swatsim::test
