#pragma once
// Writing and streaming-reading trace files.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "swatsim/traces/format.hpp"
#include "swatsim/traces/mask.hpp"

struct libdeflate_compressor;
struct libdeflate_decompressor;

namespace swatsim {
class AtomicFile;
}
namespace swatsim::traces::detail {  // owners of the C resources, so that every exit path frees them
struct CloseFile { void operator()(std::FILE* f) const; };
struct FreeCompressor { void operator()(libdeflate_compressor* c) const; };
struct FreeDecompressor { void operator()(libdeflate_decompressor* d) const; };
}  // namespace swatsim::traces::detail

namespace swatsim::traces {

/// Writes a trace to `path` through an AtomicFile: a writer destroyed or killed before finish()
/// leaves no file at `path`.
class TraceWriter {
public:
  struct Options {
    int zlib_level = 1;  ///< zlib-format compression level 1..12 (libdeflate); 0 stores every blob raw
    /// A blob is stored compressed only if that saves at least this fraction of its bytes: inflating
    /// near-random bitmaps (a 20%-dense mask saves ~20%) costs more read time than the bytes it saves.
    double min_saving = 0.25;
  };
  TraceWriter(std::string path, TraceHeader header);
  TraceWriter(std::string path, TraceHeader header, Options options);
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  /// Adds one tensor. `values`, if given, holds the mask's non-zeros in order (mask.count() of them)
  /// and is stored as `value_type`. Iterations must not decrease; the layer must list `kind`.
  void add(uint32_t iteration, uint16_t layer, TensorKind kind, const Mask& mask,
           const std::vector<float>* values = nullptr, ValueType value_type = ValueType::F32);
  /// Writes the index and footer, flushes, and renames the file into place.
  void finish();

  const TraceHeader& header() const { return header_; }

private:
  void write_bytes(const void* data, size_t n);
  std::string path_;
  TraceHeader header_;
  Options options_;
  std::unique_ptr<AtomicFile> file_;
  uint64_t offset_ = 0;
  std::vector<TensorRecord> records_;
  std::vector<uint8_t> scratch_, packed_;
  std::unique_ptr<libdeflate_compressor, detail::FreeCompressor> compressor_;
};

/// Streaming reader: opens the header and index; each read_* call reads and checks one blob.
/// It never holds more than the mask being returned.
class TraceReader {
public:
  explicit TraceReader(std::string path);
  ~TraceReader();
  TraceReader(const TraceReader&) = delete;
  TraceReader& operator=(const TraceReader&) = delete;

  const std::string& path() const { return path_; }
  const TraceHeader& header() const { return header_; }
  /// Every stored tensor, sorted by (iteration, layer, kind).
  const std::vector<TensorRecord>& records() const { return records_; }
  /// Recorded iterations in increasing order.
  std::vector<uint32_t> iterations() const;
  /// The record of one tensor found by binary search, or nullptr if it is not stored.
  const TensorRecord* find(uint32_t iteration, uint16_t layer, TensorKind kind) const;

  /// Reads the blob, checks its CRC, size, padding bits and non-zero count, returns the mask.
  Mask read_mask(const TensorRecord& r);
  /// Reads mask and values (as float; bf16 widened); values empty if none were stored.
  Mask read(const TensorRecord& r, std::vector<float>* values);
  /// Reads into caller-owned storage to avoid allocation in hot loops.
  void read_into(const TensorRecord& r, Mask& mask, std::vector<float>* values);

private:
  // The constructor's steps: a regular file; preamble and header (returns where the blobs start);
  // footer and index, every entry checked.
  void open_file();
  uint64_t read_header();
  void read_index(uint64_t data_start);
  [[noreturn]] void fail(const std::string& what) const;
  void read_at(uint64_t off, void* dst, size_t n);
  void load_blob(const TensorRecord& r, uint8_t* raw_out);
  void read_checked(const TensorRecord& r, Mask& mask, std::vector<float>* values);
  std::string path_;
  std::unique_ptr<std::FILE, detail::CloseFile> file_;
  uint64_t file_size_ = 0;
  TraceHeader header_;
  std::vector<TensorRecord> records_;
  std::vector<uint8_t> stored_, raw_;
  std::unique_ptr<libdeflate_decompressor, detail::FreeDecompressor> decompressor_;
};

}  // namespace swatsim::traces
