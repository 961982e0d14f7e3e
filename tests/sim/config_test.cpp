// sim/config: binding JSON to the declared parameters, sections inline or in files, errors with
// the file and the key path.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "swatsim/common/error.hpp"
#include "swatsim/sim/config.hpp"

namespace fs = std::filesystem;
using swatsim::InputError;
using swatsim::sim::load_accelerator_config;

namespace {

struct TempDir {
  fs::path dir;
  TempDir() {
    dir = fs::temp_directory_path() / ("swatsim-config-test-" + std::to_string(::getpid()));
    fs::create_directories(dir / "pe");
  }
  ~TempDir() { fs::remove_all(dir); }
  std::string write(const std::string& name, const std::string& text) const {
    const fs::path p = dir / name;
    std::ofstream(p) << text;
    return p.string();
  }
};

std::string error_of(const std::string& path) {
  try {
    (void)load_accelerator_config(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST(Config, ReferenceExampleBinds) {
  TempDir t;
  const auto p = t.write("td.json",
                         R"({"name": "td", "clock_ghz": 1.0, "tiles": 1, "pe": {"type": "tensordash", "rows": 4,
                             "cols": 16, "lanes": 16, "lookahead": 2, "lookaside": 5, "shape": "T"},
                             "memory": {"type": "ideal"}})");
  const auto c = load_accelerator_config(p);
  EXPECT_EQ(c.name, "td");
  EXPECT_EQ(c.tiles, 1u);
  EXPECT_EQ(c.pe_type, "tensordash");
  EXPECT_EQ(c.pe.get_int("lookahead"), 2);
  EXPECT_EQ(c.pe.get_choice("shape"), "T");
  EXPECT_EQ(c.memory_type, "ideal");
}

TEST(Config, SectionFromFileEqualsInline) {
  TempDir t;
  t.write("pe/td.json", R"({"type": "tensordash", "lookahead": 3, "shape": "L"})");
  const auto a = load_accelerator_config(t.write("a.json", R"({"tiles": 4, "pe": "pe/td.json"})"));
  const auto b = load_accelerator_config(
      t.write("b.json", R"({"tiles": 4, "pe": {"type": "tensordash", "lookahead": 3, "shape": "L"}})"));
  EXPECT_EQ(swatsim::sim::to_json(a).dump(), swatsim::sim::to_json(b).dump());
  EXPECT_EQ(a.pe.get_int("rows"), 4);  // default filled in
}

TEST(Config, ShowFillsEveryDefault) {
  TempDir t;
  const auto c = load_accelerator_config(t.write("d.json", R"({"pe": {"type": "dense-systolic"}})"));
  const auto j = swatsim::sim::to_json(c);
  EXPECT_EQ(j.dump(), R"({"name":"accelerator","clock_ghz":1.0,"tiles":1,"pe":{"type":"dense-systolic","rows":32,"cols":32,"dataflow":"os","zero_gating":"off"},"memory":{"type":"ideal"},"energy":{"table":"45nm","node_nm":45.0,"voltage":0.9},"area":"45nm"})");
}

TEST(Config, ErrorsNameFileAndKeyPath) {
  TempDir t;
  auto check = [&](const std::string& text, const std::string& expect) {
    const auto p = t.write("bad.json", text);
    EXPECT_EQ(error_of(p), p + ": " + expect) << text;
  };
  check(R"({"pe": {"type": "tensordash", "lookahead": -2}})",
        "/pe/lookahead: expected an integer in [1, 64], got -2");
  check(R"({"pe": {"type": "tensordash", "lookahead": "2"}})",
        "/pe/lookahead: expected an integer in [1, 64], got \"2\"");
  check(R"({"pe": {"type": "tensordash", "shape": "X"}})", "/pe/shape: expected one of \"T\", \"L\", got \"X\"");
  check(R"({"pe": {"type": "tensordash", "lanes": 8, "lookaside": 8}})",
        "/pe/lookaside: must be less than lanes (8), got 8");
  check(R"({"pe": {"type": "tensordash", "foo": 1}})",
        "/pe/foo: unknown key for pe type \"tensordash\" (known: type, rows, cols, lanes, lookahead, lookaside, shape)");
  check(R"({"pe": {"type": "warp-drive"}})",
        "/pe/type: expected one of dense-systolic, tensordash, two-sided, got \"warp-drive\"");
  check(R"({"pe": {"type": "tensordash"}, "tiles": 0})", "/tiles: expected an integer in [1, 4096], got 0");
  check(R"({"pe": {"type": "tensordash"}, "clock_ghz": 0})", "/clock_ghz: expected a number in [0.001, 100], got 0");
  check(R"({"pe": {"type": "tensordash"}, "memory": {"type": "hbm9"}})",
        "/memory/type: expected one of hierarchy, ideal, got \"hbm9\"");
  check(R"({"pe": {"type": "tensordash"}, "tile": 2})",
        "/tile: unknown key (known: name, clock_ghz, tiles, pe, memory, dram, energy, area, reference)");
  check(R"({"pe": {"type": "tensordash"}, "memory": {"type": "hierarchy"}})",
        "/dram: missing; memory type \"hierarchy\" needs a DRAM: a preset (ddr4-3200, hbm2) or a section");
  check(R"({"pe": {"type": "tensordash"}, "memory": {"type": "hierarchy"}, "dram": null})",
        "/dram: missing; memory type \"hierarchy\" needs a DRAM: a preset (ddr4-3200, hbm2) or a section");
  check(R"({"pe": {"type": "tensordash"}, "dram": "hbm2"})",
        "/dram: a DRAM needs a memory hierarchy in front of it: set /memory/type to \"hierarchy\" or remove /dram (ideal memory has no DRAM)");
  check(R"({"pe": {"type": "tensordash"}, "memory": {"type": "hierarchy", "weight_format": "coo"}, "dram": "hbm2"})",
        "/memory/weight_format: expected one of \"dense\", \"bitmap\", \"csr\", \"rle\", got \"coo\"");
  check(R"({"pe": {"type": "tensordash"}, "memory": {"type": "hierarchy"}, "dram": "ddr5"})",
        "/dram: expected a DRAM preset (ddr4-3200, hbm2) or a section file, got \"ddr5\" (neither)");
  check(R"({"pe": {"type": "tensordash"}, "energy": {"table": "45nm", "node_nm": 0}})",
        "/energy/node_nm: expected a number in [1, 1000], got 0");
  check(R"({"tiles": 2})", "/: missing key \"pe\" (the PE array: {\"type\": ..., ...})");
  check(R"({"pe": 5})", "/pe: expected an object or a path to a JSON file, got 5");
  check(R"([1, 2])", "expected a JSON object, got an array");
}

TEST(Config, ErrorInSectionFileNamesThatFile) {
  TempDir t;
  const auto pe = t.write("pe/bad.json", R"({"type": "two-sided", "pairs_per_cycle": 0})");
  const auto p = t.write("top.json", R"({"pe": "pe/bad.json"})");
  EXPECT_EQ(error_of(p), fs::path(pe).lexically_normal().string() +
                             ": /pairs_per_cycle: expected an integer in [1, 64], got 0");
  const auto missing = t.write("top2.json", R"({"pe": "pe/none.json"})");
  EXPECT_NE(error_of(missing).find("top2.json: /pe: section file"), std::string::npos);
}

TEST(Config, BadJsonAndMissingFile) {
  TempDir t;
  EXPECT_NE(error_of(t.write("x.json", "{\"pe\": ")).find("invalid JSON"), std::string::npos);
  EXPECT_NE(error_of((t.dir / "nope.json").string()).find("cannot open config file"), std::string::npos);
}

// A path naming a directory used to escape as std::ios_base::failure ("internal error").
TEST(Config, DirectoryIsAnInputError) {
  TempDir t;
  EXPECT_EQ(error_of(t.dir.string()), t.dir.string() + ": is a directory, not a config file");
  const auto p = t.write("top.json", R"({"pe": "pe"})");
  EXPECT_EQ(error_of(p), p + ": /pe: section file '" + (t.dir / "pe").lexically_normal().string() +
                             "' is not a regular file (a directory)");
}

TEST(Config, TwoSidedPairsPerCycleAtMostLanes) {
  TempDir t;
  const auto ok = t.write("ok.json", R"({"pe": {"type": "two-sided", "lanes": 8, "pairs_per_cycle": 8}})");
  EXPECT_NO_THROW((void)load_accelerator_config(ok));
  const auto p = t.write("bad.json", R"({"pe": {"type": "two-sided", "lanes": 8, "pairs_per_cycle": 9}})");
  EXPECT_EQ(error_of(p), p + ": /pe/pairs_per_cycle: expected an integer in [1, lanes=8], got 9");
}

TEST(Config, PresetsValidate) {
  for (const char* f : {"tensordash-td.json", "tensordash-16tiles.json", "dense-systolic-32x32.json", "two-sided.json"})
    EXPECT_NO_THROW((void)load_accelerator_config(std::string(SWATSIM_SOURCE_DIR) + "/configs/arch/" + f)) << f;
}
