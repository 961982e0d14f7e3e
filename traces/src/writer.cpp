#include <libdeflate.h>

#include <cstdio>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "layout.hpp"
#include "swatsim/common/atomic_file.hpp"
#include "swatsim/common/error.hpp"
#include "swatsim/traces/io.hpp"
#include "swatsim/traces/tools.hpp"

namespace swatsim::traces {

namespace detail {
void CloseFile::operator()(std::FILE* f) const { std::fclose(f); }
void FreeCompressor::operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
void FreeDecompressor::operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
}  // namespace detail

namespace {
uint16_t to_bf16(float f) {  // round to nearest even, as torch does
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return uint16_t(u >> 16);
}
}  // namespace

TraceWriter::TraceWriter(std::string path, TraceHeader header) : TraceWriter(std::move(path), std::move(header), Options{}) {}

TraceWriter::TraceWriter(std::string path, TraceHeader header, Options options)
    : path_(std::move(path)), header_(std::move(header)), options_(options) {
  header_.version = kFormatVersion;
  if (options_.zlib_level < 0 || options_.zlib_level > 12)
    throw InputError(path_, fmt::format("zlib level {} out of range [0, 12]", options_.zlib_level));
  if (!(options_.min_saving >= 0.0 && options_.min_saving < 1.0))
    throw InputError(path_, fmt::format("min_saving {} out of range [0, 1)", options_.min_saving));
  if (std::string err = check_swat(header_.swat); !err.empty()) throw InputError(path_ + ": header", err);
  if (header_.layers.size() > 0xffff) throw InputError(path_, "more than 65535 layers");
  std::set<std::string> names;
  for (size_t i = 0; i < header_.layers.size(); ++i) {
    const auto& l = header_.layers[i];
    if (std::string err = check_layer(l); !err.empty())
      throw InputError(fmt::format("{}: layer {} ({})", path_, i, l.name), err);
    if (!names.insert(l.name).second)
      throw InputError(fmt::format("{}: layer {} ({})", path_, i, l.name), "layer names must be unique");
  }
  if (options_.zlib_level > 0) {
    compressor_.reset(libdeflate_alloc_compressor(options_.zlib_level));
    if (!compressor_) throw std::bad_alloc();
  }
  file_ = std::make_unique<AtomicFile>(path_);

  const std::string json = layout::header_to_json(header_).dump();
  uint8_t pre[layout::kPreambleSize];
  uint8_t* p = pre;
  std::memcpy(p, layout::kMagic, 8);
  p += 8;
  layout::put<uint32_t>(p, kFormatVersion);
  layout::put<uint32_t>(p, uint32_t(json.size()));
  layout::put<uint32_t>(p, layout::crc32(json.data(), json.size()));
  layout::put<uint32_t>(p, 0);
  write_bytes(pre, sizeof pre);
  write_bytes(json.data(), json.size());
}

TraceWriter::~TraceWriter() = default;  // an unfinished AtomicFile removes its temporary

void TraceWriter::write_bytes(const void* data, size_t n) {
  file_->stream().write(static_cast<const char*>(data), std::streamsize(n));
  if (!file_->stream()) throw InputError(file_->temp_path(), "write failed (disk full?)");
  offset_ += n;
}

void TraceWriter::add(uint32_t iteration, uint16_t layer, TensorKind kind, const Mask& mask,
                      const std::vector<float>* values, ValueType value_type) {
  if (!file_) throw std::logic_error("TraceWriter::add after finish");
  TensorRecord r;
  r.iteration = iteration;
  r.layer = layer;
  r.kind = kind;
  auto where = [&] { return locate(path_, header_, r); };
  if (layer >= header_.layers.size()) throw InputError(where(), "no such layer in the layer table");
  const LayerInfo& info = header_.layers[layer];
  if (!info.has(kind)) throw InputError(where(), "the layer table does not list this tensor");
  if (mask.shape() != info.shape_of(kind))
    throw InputError(where(), fmt::format("shape {} disagrees with the layer table's {}", mask.shape().str(),
                                          info.shape_of(kind).str()));
  if (!records_.empty() && layout::record_key(r) <= layout::record_key(records_.back()))
    throw InputError(where(), "tensors must be added in increasing (iteration, layer, tensor) order, once each");
  r.shape = mask.shape();
  r.nnz = mask.count();
  r.values = values ? value_type : ValueType::None;
  if (values && values->size() != r.nnz)
    throw InputError(where(), fmt::format("{} values given for {} non-zeros", values->size(), r.nnz));
  if (values && value_type == ValueType::None) throw InputError(where(), "values given with value type none");

  // Raw blob: the bitmap (ceil(numel/8) bytes, LSB-first), then the non-zeros' values.
  const uint64_t bitmap_bytes = r.bitmap_bytes();
  r.raw_size = bitmap_bytes + r.nnz * value_bytes(r.values);
  scratch_.resize(r.raw_size);
  std::memcpy(scratch_.data(), mask.words().data(), bitmap_bytes);
  if (values) {
    uint8_t* p = scratch_.data() + bitmap_bytes;
    for (size_t i = 0; i < values->size(); ++i) {
      const float v = (*values)[i];
      // A stored value is never zero: the mask says where the zeros are.
      const bool zero = r.values == ValueType::F32 ? v == 0.0f : (to_bf16(v) & 0x7fffu) == 0;
      if (zero)
        throw InputError(where(), fmt::format("value {} of the non-zeros is {}, which is zero as {}", i, v,
                                              to_string(r.values)));
      if (r.values == ValueType::F32) layout::put<float>(p, v);
      else layout::put<uint16_t>(p, to_bf16(v));
    }
  }

  const uint8_t* stored = scratch_.data();
  r.stored_size = r.raw_size;
  r.codec = layout::kCodecRaw;
  if (compressor_ && r.raw_size > 64) {
    packed_.resize(r.raw_size);  // a blob that zlib does not shrink enough is kept raw
    const size_t n = libdeflate_zlib_compress(compressor_.get(), scratch_.data(), r.raw_size, packed_.data(), packed_.size());
    if (n > 0 && double(n) <= (1.0 - options_.min_saving) * double(r.raw_size)) {
      stored = packed_.data();
      r.stored_size = n;
      r.codec = layout::kCodecZlib;
    }
  }
  r.crc32 = layout::crc32(stored, r.stored_size);
  r.offset = offset_;
  write_bytes(stored, r.stored_size);
  records_.push_back(r);
}

void TraceWriter::finish() {
  if (!file_) return;
  std::vector<uint8_t> index(records_.size() * layout::kEntrySize);
  for (size_t i = 0; i < records_.size(); ++i) layout::encode_entry(records_[i], index.data() + i * layout::kEntrySize);
  const uint64_t index_offset = offset_;
  write_bytes(index.data(), index.size());
  uint8_t foot[layout::kFooterSize];
  uint8_t* p = foot;
  layout::put<uint64_t>(p, index_offset);
  layout::put<uint64_t>(p, records_.size());
  layout::put<uint32_t>(p, layout::crc32(index.data(), index.size()));
  layout::put<uint32_t>(p, 0);
  std::memcpy(p, layout::kEndMagic, 8);
  write_bytes(foot, sizeof foot);
  file_->commit();
  file_.reset();
}

}  // namespace swatsim::traces
