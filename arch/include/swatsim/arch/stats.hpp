#pragma once
// Statistics named after the object tree, each with a unit and a meaning (DRAMSys / gem5 style).
// Models add() them; separate formatters in sim/report write them as JSON, CSV or text.
#include <cstdint>
#include <string>
#include <vector>

namespace swatsim::arch {

enum class Unit : uint8_t {
  Cycles, Macs, Count, Ratio, Seconds, Bytes, PicoJoules, BytesPerCycle, GigabytesPerSecond, SquareMillimeters, GigamacsPerSecondPerMm2
};
/// "cycles", "MACs", "count", "ratio", "s", "bytes", "pJ", "bytes/cycle", "GB/s", "mm^2", "GMAC/s/mm^2"
const char* to_string(Unit u);

struct Stat {
  std::string name;  ///< dotted path, e.g. "accelerator.tiles.wait_cycles"
  double value = 0;
  Unit unit = Unit::Count;
  std::string description;
};

/// An ordered list of named statistics (order = insertion order, so reports are deterministic).
class StatSet {
public:
  void add(std::string name, double value, Unit unit, std::string description);
  const std::vector<Stat>& all() const { return stats_; }
  const Stat* find(const std::string& name) const;

private:
  std::vector<Stat> stats_;
};

}  // namespace swatsim::arch
