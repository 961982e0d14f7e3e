#include "swatsim/arch/stats.hpp"

namespace swatsim::arch {

const char* to_string(Unit u) {
  switch (u) {
    case Unit::Cycles: return "cycles";
    case Unit::Macs: return "MACs";
    case Unit::Count: return "count";
    case Unit::Ratio: return "ratio";
    case Unit::Seconds: return "s";
    case Unit::Bytes: return "bytes";
    case Unit::PicoJoules: return "pJ";
    case Unit::BytesPerCycle: return "bytes/cycle";
    case Unit::GigabytesPerSecond: return "GB/s";
    case Unit::SquareMillimeters: return "mm^2";
    case Unit::GigamacsPerSecondPerMm2: return "GMAC/s/mm^2";
  }
  return "?";
}

void StatSet::add(std::string name, double value, Unit unit, std::string description) {
  stats_.push_back(Stat{std::move(name), value, unit, std::move(description)});
}

const Stat* StatSet::find(const std::string& name) const {
  for (const auto& s : stats_)
    if (s.name == name) return &s;
  return nullptr;
}

}  // namespace swatsim::arch
