#pragma once
// Byte layout of trace format v1 (docs/trace-format.md). All integers little-endian.
#include <cstdint>
#include <cstring>
#include <string>
#include <tuple>

#include <nlohmann/json.hpp>

#include "swatsim/traces/format.hpp"

namespace swatsim::traces::layout {

// The fuzz build (cmake --preset fuzz) does not verify checksums, so that mutated traces reach the
// parsers behind them; every other build does.
#ifdef SWATSIM_FUZZING
inline constexpr bool kVerifyChecksums = false;
#else
inline constexpr bool kVerifyChecksums = true;
#endif
inline constexpr char kMagic[8] = {'S', 'W', 'A', 'T', 'T', 'R', 'C', '\0'};
inline constexpr char kEndMagic[8] = {'S', 'W', 'A', 'T', 'E', 'N', 'D', '\0'};
inline constexpr size_t kPreambleSize = 24;  // magic, u32 version, u32 header_len, u32 header_crc, u32 0
inline constexpr size_t kEntrySize = 64;     // one index entry
inline constexpr size_t kFooterSize = 32;    // u64 index_offset, u64 count, u32 index_crc, u32 0, end magic
inline constexpr uint8_t kCodecRaw = 0;
inline constexpr uint8_t kCodecZlib = 1;

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "trace I/O assumes a little-endian host");

template <class T> void put(uint8_t*& p, T v) { std::memcpy(p, &v, sizeof v); p += sizeof v; }
template <class T> T get(const uint8_t*& p) { T v; std::memcpy(&v, p, sizeof v); p += sizeof v; return v; }

/// Index order: (iteration, layer, tensor code).
inline auto record_key(const TensorRecord& r) { return std::tuple(r.iteration, r.layer, uint8_t(r.kind)); }

void encode_entry(const TensorRecord& r, uint8_t* out);
TensorRecord decode_entry(const uint8_t* in);

nlohmann::json header_to_json(const TraceHeader& h);
/// Throws InputError naming `file` and the JSON key path.
TraceHeader header_from_json(const nlohmann::json& j, const std::string& file);

uint32_t crc32(const void* data, size_t n);

}  // namespace swatsim::traces::layout
