#include "swatsim/arch/params.hpp"

#include <cassert>
#include <sstream>

namespace swatsim::arch {

ParamSpec ParamSpec::integer(std::string name, std::string description, int64_t def, int64_t min,
                             int64_t max) {
  ParamSpec p;
  p.name = std::move(name);
  p.description = std::move(description);
  p.kind = ParamKind::Int;
  p.int_default = def;
  p.int_min = min;
  p.int_max = max;
  return p;
}

ParamSpec ParamSpec::real(std::string name, std::string description, double def, double min,
                          double max, bool min_open) {
  ParamSpec p;
  p.name = std::move(name);
  p.description = std::move(description);
  p.kind = ParamKind::Real;
  p.real_default = def;
  p.real_min = min;
  p.real_max = max;
  p.real_min_open = min_open;
  return p;
}

ParamSpec ParamSpec::choice(std::string name, std::string description, std::string def,
                            std::vector<std::string> choices) {
  ParamSpec p;
  p.name = std::move(name);
  p.description = std::move(description);
  p.kind = ParamKind::Choice;
  p.choice_default = std::move(def);
  p.choices = std::move(choices);
  return p;
}

ParamSpec ParamSpec::text(std::string name, std::string description, std::string def) {
  ParamSpec p;
  p.name = std::move(name);
  p.description = std::move(description);
  p.kind = ParamKind::Text;
  p.choice_default = std::move(def);
  return p;
}

std::string ParamSpec::expectation() const {
  std::ostringstream o;
  switch (kind) {
    case ParamKind::Int:
      o << "an integer in [" << int_min << ", " << int_max << "]";
      break;
    case ParamKind::Real:
      o << "a number in " << (real_min_open ? "(" : "[") << real_min << ", " << real_max << "]";
      break;
    case ParamKind::Choice:
      o << "one of ";
      for (size_t i = 0; i < choices.size(); ++i) o << (i ? ", " : "") << '"' << choices[i] << '"';
      break;
    case ParamKind::Text:
      o << "a string";
      break;
  }
  return o.str();
}

std::string ParamSpec::default_string() const {
  std::ostringstream o;
  switch (kind) {
    case ParamKind::Int: o << int_default; break;
    case ParamKind::Real: o << real_default; break;
    case ParamKind::Choice:
    case ParamKind::Text: o << '"' << choice_default << '"'; break;
  }
  if (required) return "(required)";
  return o.str();
}

ParamSet::ParamSet(const std::vector<ParamSpec>& specs) {
  for (const auto& s : specs) {
    switch (s.kind) {
      case ParamKind::Int: values_[s.name] = s.int_default; break;
      case ParamKind::Real: values_[s.name] = s.real_default; break;
      case ParamKind::Choice:
      case ParamKind::Text: values_[s.name] = s.choice_default; break;
    }
  }
}

int64_t ParamSet::get_int(const std::string& name) const {
  auto it = values_.find(name);
  assert(it != values_.end() && std::holds_alternative<int64_t>(it->second));
  return std::get<int64_t>(it->second);
}

double ParamSet::get_real(const std::string& name) const {
  auto it = values_.find(name);
  assert(it != values_.end());
  if (std::holds_alternative<int64_t>(it->second)) return double(std::get<int64_t>(it->second));
  return std::get<double>(it->second);
}

const std::string& ParamSet::get_choice(const std::string& name) const {
  auto it = values_.find(name);
  assert(it != values_.end() && std::holds_alternative<std::string>(it->second));
  return std::get<std::string>(it->second);
}

}  // namespace swatsim::arch
