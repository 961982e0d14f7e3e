#pragma once
// One registry per component kind (PE arrays, memory systems, ...), keyed by the config's `type`
// (Ramulator 2 style). An implementation registers itself from its own folder with
// SWATSIM_REGISTER(Interface, Class, "type", "description"), so adding one touches no other file.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "swatsim/arch/params.hpp"

namespace swatsim::arch {

template <class Interface>
struct TypeInfo {
  std::string type;
  std::string description;
  std::vector<ParamSpec> params;
  /// Builds a model; throws std::invalid_argument naming the parameter for inconsistent values.
  std::function<std::unique_ptr<Interface>(const ParamSet&)> create;
};

template <class Interface>
class Registry {
public:
  /// Registered types by name (sorted).
  static const std::map<std::string, TypeInfo<Interface>>& types() { return table(); }
  static const TypeInfo<Interface>* find(const std::string& type) {
    auto it = table().find(type);
    return it == table().end() ? nullptr : &it->second;
  }
  static std::vector<std::string> names() {
    std::vector<std::string> v;
    for (const auto& [name, info] : table()) v.push_back(name);
    return v;
  }
  struct Registrar {
    explicit Registrar(TypeInfo<Interface> info) {
      const std::string name = info.type;
      table()[name] = std::move(info);
    }
  };

private:
  static std::map<std::string, TypeInfo<Interface>>& table() {  // built on first use: static-init safe
    static std::map<std::string, TypeInfo<Interface>> t;
    return t;
  }
};

}  // namespace swatsim::arch

#define SWATSIM_ARCH_CONCAT_INNER(a, b) a##b
#define SWATSIM_ARCH_CONCAT(a, b) SWATSIM_ARCH_CONCAT_INNER(a, b)
/// Class must provide `static std::vector<ParamSpec> params()` and a constructor from ParamSet.
#define SWATSIM_REGISTER(Interface, Class, type_name, description)                                        \
  static ::swatsim::arch::Registry<Interface>::Registrar SWATSIM_ARCH_CONCAT(swatsim_registrar_, __LINE__)( \
      ::swatsim::arch::TypeInfo<Interface>{                                                                \
          type_name, description, Class::params(),                                                         \
          [](const ::swatsim::arch::ParamSet& p) { return std::unique_ptr<Interface>(new Class(p)); }})
