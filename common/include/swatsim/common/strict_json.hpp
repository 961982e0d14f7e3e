#pragma once
// JSON parsing that refuses what nlohmann would silently accept: a key repeated in one object
// (nlohmann keeps the last), and nesting deeper than kMaxJsonDepth (copying or printing such a value
// recurses once per level: a few hundred kilobytes of brackets overflowed the stack). The error
// names the key's JSON pointer, e.g. "/pe/lookahead: duplicate key". Header-only; the caller links
// nlohmann_json.
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "swatsim/common/error.hpp"

namespace swatsim {

/// Deepest nesting of objects and arrays any swatsim JSON input may have (configs need a handful).
inline constexpr size_t kMaxJsonDepth = 128;

/// Parses `text` (a string or a stream) into Json; throws InputError(where, ...) for a repeated key
/// and Json's own exceptions for malformed text.
template <class Json, class Input>
Json parse_json_strict(Input&& text, const std::string& where) {
  struct Frame {
    bool array = false;
    long index = -1;
    std::string key;
    std::set<std::string> keys;
  };
  std::vector<Frame> stack;
  auto pointer = [&]() {
    std::string p;
    for (const Frame& f : stack) {
      std::string token = f.array ? std::to_string(f.index) : f.key;
      for (size_t i = 0; i < token.size(); ++i)  // RFC 6901: ~ as ~0, / as ~1
        if (token[i] == '~' || token[i] == '/') token.replace(i, 1, token[i] == '~' ? "~0" : "~1"), ++i;
      p += "/" + token;
    }
    return p;
  };
  using event = typename Json::parse_event_t;
  auto callback = [&](int, event e, Json& parsed) -> bool {
    if (e == event::object_start || e == event::array_start || e == event::value)
      if (!stack.empty() && stack.back().array) ++stack.back().index;  // a new element of an array
    if ((e == event::object_start || e == event::array_start) && stack.size() >= kMaxJsonDepth)
      throw InputError(where, (stack.empty() ? std::string("/") : pointer()) +
                                  ": nested deeper than " + std::to_string(kMaxJsonDepth) + " levels of objects and arrays");
    switch (e) {
      case event::object_start: stack.push_back(Frame{}); break;
      case event::array_start: stack.push_back(Frame{true, -1, {}, {}}); break;
      case event::object_end:
      case event::array_end: stack.pop_back(); break;
      case event::key: {
        Frame& f = stack.back();
        f.key = parsed.template get<std::string>();
        if (!f.keys.insert(f.key).second) throw InputError(where, pointer() + ": duplicate key");
        break;
      }
      case event::value: break;
    }
    return true;
  };
  return Json::parse(std::forward<Input>(text), callback);
}

}  // namespace swatsim
