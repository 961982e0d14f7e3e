#pragma once
// Declared parameters (Ramulator 2 style): each component type lists its parameters with name,
// meaning, default and range; sim/config binds a JSON section to them and reports errors with
// key paths. arch itself never parses text.
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace swatsim::arch {

enum class ParamKind : uint8_t { Int, Real, Choice, Text };

struct ParamSpec {
  std::string name;
  std::string description;
  ParamKind kind = ParamKind::Int;
  int64_t int_default = 0, int_min = 0, int_max = 0;
  double real_default = 0, real_min = 0, real_max = 0;  ///< real_min is exclusive when real_min_open
  bool real_min_open = false;
  std::string choice_default;  ///< also the default of a Text parameter
  std::vector<std::string> choices;
  /// No meaningful default: a config must give it (e.g. a DRAM device timing in a custom set).
  bool required = false;

  static ParamSpec integer(std::string name, std::string description, int64_t def, int64_t min,
                           int64_t max);
  static ParamSpec real(std::string name, std::string description, double def, double min,
                        double max, bool min_open = false);
  static ParamSpec choice(std::string name, std::string description, std::string def,
                          std::vector<std::string> choices);
  /// Free text, checked by the component that uses it (e.g. a DRAM address-mapping string).
  static ParamSpec text(std::string name, std::string description, std::string def);
  ParamSpec& must_be_given() {
    required = true;
    return *this;
  }
  /// "an integer in [1, 64]", "one of \"T\", \"L\"": the words errors use.
  std::string expectation() const;
  std::string default_string() const;
};

using ParamValue = std::variant<int64_t, double, std::string>;

/// Values for a list of declared parameters; get_* of an undeclared name is a bug (asserts).
class ParamSet {
public:
  ParamSet() = default;
  /// All defaults of `specs`.
  explicit ParamSet(const std::vector<ParamSpec>& specs);
  void set(const std::string& name, ParamValue v) { values_[name] = std::move(v); }
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  int64_t get_int(const std::string& name) const;
  double get_real(const std::string& name) const;
  const std::string& get_choice(const std::string& name) const;
  const std::string& get_text(const std::string& name) const { return get_choice(name); }
  const std::map<std::string, ParamValue>& values() const { return values_; }

private:
  std::map<std::string, ParamValue> values_;
};

}  // namespace swatsim::arch
