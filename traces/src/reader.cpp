#include <libdeflate.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "layout.hpp"
#include "swatsim/common/error.hpp"
#include "swatsim/common/strict_json.hpp"
#include "swatsim/traces/io.hpp"
#include "swatsim/traces/tools.hpp"

namespace swatsim::traces {

namespace {
float from_bf16(uint16_t b) {
  const uint32_t u = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
using layout::record_key;
}  // namespace

TraceReader::TraceReader(std::string path) : path_(std::move(path)) {
  open_file();
  const uint64_t data_start = read_header();
  read_index(data_start);
}

void TraceReader::fail(const std::string& what) const { throw InputError(path_, what); }

void TraceReader::read_at(uint64_t off, void* dst, size_t n) {
  if (fseeko(file_.get(), off_t(off), SEEK_SET) != 0 || std::fread(dst, 1, n, file_.get()) != n)
    fail(fmt::format("cannot read {} bytes at offset {}", n, off));
}

void TraceReader::open_file() {
  {  // only regular files: a directory reads as garbage, a FIFO would block
    std::error_code ec;
    const auto st = std::filesystem::status(path_, ec);
    if (!ec && std::filesystem::exists(st) && !std::filesystem::is_regular_file(st))
      throw InputError(path_, std::filesystem::is_directory(st) ? "is a directory, not a trace"
                                                                : "is not a regular file (a FIFO or device), not a trace");
  }
  file_.reset(std::fopen(path_.c_str(), "rb"));
  if (!file_) throw InputError(path_, std::string("cannot open: ") + std::strerror(errno));
}

uint64_t TraceReader::read_header() {
  if (fseeko(file_.get(), 0, SEEK_END) != 0) fail("cannot seek");
  file_size_ = uint64_t(ftello(file_.get()));
  if (file_size_ < layout::kPreambleSize) fail(fmt::format("truncated: {} bytes is too short for a trace", file_size_));

  uint8_t pre[layout::kPreambleSize];
  read_at(0, pre, sizeof pre);
  if (std::memcmp(pre, layout::kMagic, 8) != 0) fail("not a swatsim trace (bad magic number)");
  const uint8_t* p = pre + 8;
  const auto version = layout::get<uint32_t>(p);
  const auto header_len = layout::get<uint32_t>(p);
  const auto header_crc = layout::get<uint32_t>(p);
  const auto pre_reserved = layout::get<uint32_t>(p);
  if (version != kFormatVersion)
    fail(fmt::format("unknown format version {} (this reader supports version {})", version, kFormatVersion));
  if (layout::kPreambleSize + uint64_t(header_len) + layout::kFooterSize > file_size_)
    fail("truncated: the file ends inside the header");
  if (pre_reserved != 0) fail("corrupt preamble: reserved bytes 20-23 are not zero");

  std::string json(header_len, '\0');
  read_at(layout::kPreambleSize, json.data(), header_len);
  if (layout::kVerifyChecksums && layout::crc32(json.data(), json.size()) != header_crc) fail("header checksum mismatch");
  nlohmann::json j;
  try {
    j = parse_json_strict<nlohmann::json>(json, path_ + ": header");
  } catch (const nlohmann::json::exception&) {
    fail("header is not valid JSON");
  }
  header_ = layout::header_from_json(j, path_);
  if (header_.version != version)
    fail(fmt::format("header version {} disagrees with the file's version {}", header_.version, version));
  if (std::string err = check_swat(header_.swat); !err.empty()) fail("header /swat: " + err);
  std::set<std::string> names;
  for (size_t i = 0; i < header_.layers.size(); ++i) {
    if (std::string err = check_layer(header_.layers[i]); !err.empty())
      fail(fmt::format("layer {} ({}): {}", i, header_.layers[i].name, err));
    if (!names.insert(header_.layers[i].name).second)
      fail(fmt::format("layer {} ({}): layer names must be unique", i, header_.layers[i].name));
  }

  return layout::kPreambleSize + header_len;
}

void TraceReader::read_index(uint64_t data_start) {
  uint8_t foot[layout::kFooterSize];
  read_at(file_size_ - layout::kFooterSize, foot, sizeof foot);
  if (std::memcmp(foot + 24, layout::kEndMagic, 8) != 0)
    fail("truncated or unfinished: no end-of-trace footer (was the writer interrupted?)");
  const uint8_t* p = foot;
  const auto index_offset = layout::get<uint64_t>(p);
  const auto count = layout::get<uint64_t>(p);
  const auto index_crc = layout::get<uint32_t>(p);
  const auto foot_reserved = layout::get<uint32_t>(p);
  if (foot_reserved != 0) fail("corrupt footer: reserved bytes 20-23 are not zero");
  // Ordered so that no product can wrap: the index lies between the header and the footer.
  const uint64_t footer_start = file_size_ - layout::kFooterSize;
  if (index_offset < data_start || index_offset > footer_start ||
      count != (footer_start - index_offset) / layout::kEntrySize ||
      (footer_start - index_offset) % layout::kEntrySize != 0)
    fail(fmt::format("corrupt footer: an index of {} entries at offset {} does not fill the {} bytes before the footer",
                     count, index_offset, footer_start > index_offset ? footer_start - index_offset : 0));
  std::vector<uint8_t> index(count * layout::kEntrySize);
  read_at(index_offset, index.data(), index.size());
  if (layout::kVerifyChecksums && layout::crc32(index.data(), index.size()) != index_crc) fail("index checksum mismatch");

  records_.reserve(count);
  uint64_t next_blob = data_start;  // blobs are contiguous, in index order
  for (uint64_t i = 0; i < count; ++i) {
    const uint8_t* e = index.data() + i * layout::kEntrySize;
    TensorRecord r = layout::decode_entry(e);
    auto bad = [&](const std::string& what) {
      throw InputError(fmt::format("{}: index entry {}", locate(path_, header_, r), i), what);
    };
    if (e[61] != 0 || e[62] != 0 || e[63] != 0) bad("reserved bytes 61-63 are not zero");
    if (r.layer >= header_.layers.size()) bad("no such layer in the layer table");
    if (uint8_t(r.kind) >= kTensorKinds) bad(fmt::format("unknown tensor code {}", int(r.kind)));
    if (uint8_t(r.values) > uint8_t(ValueType::BF16)) bad(fmt::format("unknown value type {}", int(r.values)));
    if (r.codec > layout::kCodecZlib) bad(fmt::format("unknown codec {}", int(r.codec)));
    const LayerInfo& l = header_.layers[r.layer];
    if (!l.has(r.kind)) bad("stored, but the layer table does not list this tensor");
    if (r.shape != l.shape_of(r.kind))  // so numel() is bounded by check_layer
      bad(fmt::format("shape {} disagrees with the layer table's {}", r.shape.str(), l.shape_of(r.kind).str()));
    if (r.nnz > r.shape.numel()) bad(fmt::format("non-zero count {} exceeds {} elements", r.nnz, r.shape.numel()));
    if (r.raw_size != r.bitmap_bytes() + r.nnz * value_bytes(r.values))
      bad(fmt::format("blob size {} disagrees with shape and non-zero count (expected {})", r.raw_size,
                      r.bitmap_bytes() + r.nnz * value_bytes(r.values)));
    if (r.codec == layout::kCodecRaw && r.stored_size != r.raw_size) bad("raw blob whose stored size is not its size");
    // DEFLATE expands at most 1032:1; a larger claim would make the reader allocate for nothing.
    if (r.codec == layout::kCodecZlib && r.raw_size > r.stored_size * 1032 + 64)
      bad(fmt::format("compressed blob of {} bytes cannot hold {} bytes", r.stored_size, r.raw_size));
    if (r.offset != next_blob || r.stored_size > index_offset - next_blob)
      bad(fmt::format("blob at offset {} ({} bytes) is not where the previous one ends ({}) or overruns the index",
                      r.offset, r.stored_size, next_blob));
    next_blob += r.stored_size;
    if (!records_.empty() && record_key(r) <= record_key(records_.back()))
      bad("index is not sorted by (iteration, layer, tensor) or holds a tensor twice");
    records_.push_back(r);
  }
  if (next_blob != index_offset)
    fail(fmt::format("corrupt index: {} bytes between the last blob and the index belong to no tensor", index_offset - next_blob));
}

TraceReader::~TraceReader() = default;

std::vector<uint32_t> TraceReader::iterations() const {
  std::vector<uint32_t> its;
  for (const auto& r : records_)
    if (its.empty() || its.back() != r.iteration) its.push_back(r.iteration);
  return its;
}

const TensorRecord* TraceReader::find(uint32_t iteration, uint16_t layer, TensorKind kind) const {
  TensorRecord probe;
  probe.iteration = iteration;
  probe.layer = layer;
  probe.kind = kind;
  auto it = std::lower_bound(records_.begin(), records_.end(), probe,
                             [](const TensorRecord& a, const TensorRecord& b) { return record_key(a) < record_key(b); });
  if (it == records_.end() || record_key(*it) != record_key(probe)) return nullptr;
  return &*it;
}

void TraceReader::load_blob(const TensorRecord& r, uint8_t* raw_out) {
  // A raw blob is read straight into `raw_out`; a compressed one is inflated into it.
  const bool raw = r.codec == layout::kCodecRaw;
  uint8_t* dst = raw ? raw_out : (stored_.resize(r.stored_size), stored_.data());
  if (fseeko(file_.get(), off_t(r.offset), SEEK_SET) != 0 || std::fread(dst, 1, r.stored_size, file_.get()) != r.stored_size)
    throw InputError(locate(path_, header_, r), "cannot read the blob (file truncated?)");
  if (layout::kVerifyChecksums && layout::crc32(dst, r.stored_size) != r.crc32)
    throw InputError(locate(path_, header_, r), "blob checksum mismatch");
  if (raw) return;
  if (!decompressor_) decompressor_.reset(libdeflate_alloc_decompressor());
  if (!decompressor_) throw std::bad_alloc();
  if (libdeflate_zlib_decompress(decompressor_.get(), stored_.data(), stored_.size(), raw_out, r.raw_size, nullptr) !=
      LIBDEFLATE_SUCCESS)
    throw InputError(locate(path_, header_, r),
                     fmt::format("blob does not decompress to its recorded {} bytes", r.raw_size));
}

void TraceReader::read_into(const TensorRecord& r, Mask& mask, std::vector<float>* values) {
  try {
    read_checked(r, mask, values);
  } catch (const std::bad_alloc&) {
    // One tensor at a time is in memory (its bitmap, values and stored blob): name the one that did not fit.
    throw InputError(locate(path_, header_, r),
                     fmt::format("needs about {} MB of memory to read ({} elements, {} non-zeros): more than this process "
                                 "may allocate",
                                 (r.bitmap_bytes() + r.raw_size + r.stored_size + (values ? r.nnz * 4 : 0)) >> 20,
                                 r.shape.numel(), r.nnz));
  }
}

void TraceReader::read_checked(const TensorRecord& r, Mask& mask, std::vector<float>* values) {
  mask.reshape_for_overwrite(r.shape);
  const uint64_t bytes = r.bitmap_bytes();
  auto* words = reinterpret_cast<uint8_t*>(mask.words().data());
  if (r.values == ValueType::None) {
    load_blob(r, words);  // the blob is exactly the bitmap: no copy
  } else {
    raw_.resize(r.raw_size);
    load_blob(r, raw_.data());
    std::memcpy(words, raw_.data(), bytes);
  }
  auto where = [&] { return locate(path_, header_, r); };
  const uint64_t n = r.shape.numel();
  if (n % 64 != 0 && (mask.words().back() >> (n % 64)) != 0)
    throw InputError(where(), "bitmap has bits set past the tensor's last element");
  const uint64_t nnz = mask.count();
  if (nnz != r.nnz)
    throw InputError(where(), fmt::format("bitmap holds {} non-zeros but the index says {}", nnz, r.nnz));
  if (values) {
    values->resize(r.values == ValueType::None ? 0 : r.nnz);
    if (r.values != ValueType::None) {  // (a masks-only blob went straight into the mask: raw_ is unused)
      const uint8_t* p = raw_.data() + bytes;
      for (auto& v : *values) v = r.values == ValueType::F32 ? layout::get<float>(p) : from_bf16(layout::get<uint16_t>(p));
    }
  }
}

Mask TraceReader::read(const TensorRecord& r, std::vector<float>* values) {
  Mask m(r.shape);
  read_into(r, m, values);
  return m;
}

Mask TraceReader::read_mask(const TensorRecord& r) { return read(r, nullptr); }

}  // namespace swatsim::traces
