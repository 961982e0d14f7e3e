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

/// Text as one line of a terminal shows it: control characters (C0, DEL) as \xNN, so that a value from
/// a file (a name, a path, a header) can neither break an error line nor send escape sequences.
inline std::string escape_control(const std::string& s) {
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f)
      out += {'\\', 'x', hex[u >> 4], hex[u & 15]};
    else
      out += c;
  }
  return out;
}

/// Exit code of every swatsim command for bad input.
inline constexpr int kExitBadInput = 2;

}  // namespace swatsim
