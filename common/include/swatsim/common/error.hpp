#pragma once
// One error type for bad user input (files, configs, traces, command lines).
// It carries *where* (a file, a key path, an iteration/layer/tensor) and *what* was expected;
// the commands turn it into one line on stderr and exit code 2. Internal invariant
// failures are bugs and use assert, not this type.
#include <stdexcept>
#include <string>

namespace swatsim {

class InputError : public std::runtime_error {
public:
  InputError(std::string where, std::string what)
      : std::runtime_error(where.empty() ? what : where + ": " + what),
        where_(std::move(where)), what_(std::move(what)) {}

  const std::string& where() const noexcept { return where_; }
  const std::string& detail() const noexcept { return what_; }

private:
  std::string where_;
  std::string what_;
};

/// Exit code of every swatsim command for bad input.
inline constexpr int kExitBadInput = 2;

}  // namespace swatsim
