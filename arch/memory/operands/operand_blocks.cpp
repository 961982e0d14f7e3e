#include "swatsim/arch/operand_blocks.hpp"

#include <algorithm>
#include <cassert>

#include "../../pe/common/bits.hpp"
#include "swatsim/common/hw_popcount.hpp"

namespace swatsim::arch {

const char* to_string(StorageFormat f) {
  switch (f) {
    case StorageFormat::Dense: return "dense";
    case StorageFormat::Bitmap: return "bitmap";
    case StorageFormat::Csr: return "csr";
    case StorageFormat::Rle: return "rle";
  }
  return "?";
}

std::optional<StorageFormat> storage_format_from_string(const std::string& s) {
  for (StorageFormat f : {StorageFormat::Dense, StorageFormat::Bitmap, StorageFormat::Csr, StorageFormat::Rle})
    if (s == to_string(f)) return f;
  return std::nullopt;
}

uint64_t TensorBox::elements() const {
  uint64_t n = 1;
  for (int d = 0; d < 4; ++d) n *= hi[d] > lo[d] ? hi[d] - lo[d] : 0;
  return n;
}

BoxContents box_shape(const TensorBox& box, int row_dims) {
  BoxContents c;
  c.elements = box.elements();
  c.rows = 1;
  c.row_length = 1;
  for (int d = 0; d < 4; ++d) {
    const uint64_t extent = box.hi[d] > box.lo[d] ? box.hi[d] - box.lo[d] : 0;
    (d < row_dims ? c.rows : c.row_length) *= extent;
  }
  if (c.elements == 0) c.rows = 0;
  return c;
}

namespace {
/// The box as contiguous runs in C order: the trailing dims it covers whole merge with dim `dim`.
struct BoxRuns {
  int dim;         ///< the last dim the box does not cover whole (0 if it covers dims 1..3 whole)
  uint64_t count;  ///< runs: the box's extent over dims 0 .. dim-1
};
BoxRuns box_runs(const BitTensorView& v, const TensorBox& box) {
  int j = 3;
  while (j > 0 && box.lo[j] == 0 && box.hi[j] == v.dims[j]) --j;
  uint64_t count = 1;
  for (int d = 0; d < j; ++d) count *= box.hi[d] - box.lo[d];
  return {j, count};
}

/// Up to this many runs a box is counted run by run from the per-word prefix sums; past it, from
/// the map's 3-D prefix sums, whose build (one pass over the map) pays off over many such boxes.
/// The weight gradient's boxes (whole channels) are one run, so it never builds them.
constexpr uint64_t kRunsCountedDirectly = 16;

SWATSIM_HW_POPCOUNT
void prefix_popcounts(const uint64_t* words, uint64_t n, uint64_t* out) {
  uint64_t sum = 0;
  out[0] = 0;
  for (uint64_t w = 0; w < n; ++w) out[w + 1] = sum += uint64_t(__builtin_popcountll(words[w]));
}

/// count(begin, end) of set bits, in O(1) from per-word prefix sums when given (inlined into
/// count_box_with, which is built with hardware popcount where the CPU has it).
struct Counter {
  const BitTensorView& v;
  const uint64_t* prefix;  // nullptr: count word by word
  inline __attribute__((always_inline)) uint64_t operator()(uint64_t begin, uint64_t end) const {
    if (!prefix) return v.count(begin, end);
    if (begin >= end) return 0;
    const uint64_t wb = begin >> 6, we = (end - 1) >> 6;
    uint64_t n = prefix[we + 1] - prefix[wb];
    if (begin & 63) n -= uint64_t(__builtin_popcountll(v.words[wb] & ((uint64_t(1) << (begin & 63)) - 1)));
    if (end & 63) n -= uint64_t(__builtin_popcountll(v.words[we] & (~uint64_t(0) << (end & 63))));
    return n;
  }
};

SWATSIM_HW_POPCOUNT
BoxContents count_box_with(const Counter& count, const TensorBox& box, int row_dims, bool with_runs) {
  const BitTensorView& v = count.v;
  BoxContents c = box_shape(box, row_dims);
  if (c.elements == 0) return c;
  const int j = box_runs(v, box).dim;
  uint64_t inner = 1;
  for (int d = j + 1; d < 4; ++d) inner *= v.dims[d];
  const uint64_t run = uint64_t(box.hi[j] - box.lo[j]) * inner;
  // RLE counts zeros before each non-zero across the whole box in C order; a zero run longer than
  // the field holds needs an extra (zero-valued) entry per 2^bits zeros.
  constexpr uint64_t kMaxRun = (uint64_t(1) << kRleRunBits) - 1;
  uint64_t position = 0, last = 0;  // position in the box of the next element / after the last non-zero
  std::array<uint32_t, 4> idx = box.lo;
  for (;;) {
    uint64_t start = 0;
    {
      std::array<uint32_t, 4> at = idx;
      for (int d = j + 1; d < 4; ++d) at[d] = 0;
      start = v.index(at[0], at[1], at[2], at[3]);
    }
    if (with_runs) {
      bits::for_each_set(v, start, start + run, [&](uint64_t i) {
        const uint64_t p = position + (i - start);
        const uint64_t gap = p - last;
        c.rle_entries += 1 + gap / (kMaxRun + 1);
        last = p + 1;
        ++c.nonzeros;
      });
      position += run;
    } else {
      c.nonzeros += count(start, start + run);
    }
    // Next tuple over dims 0..j-1.
    int d = j - 1;
    for (; d >= 0; --d) {
      if (++idx[d] < box.hi[d]) break;
      idx[d] = box.lo[d];
    }
    if (d < 0) break;
  }
  return c;
}
}  // namespace

BoxContents count_box(const BitTensorView& v, const TensorBox& box, int row_dims, bool with_runs) {
  return count_box_with(Counter{v, nullptr}, box, row_dims, with_runs);
}

uint64_t format_bytes(const BoxContents& c, StorageFormat f, uint32_t value_bytes) {
  switch (f) {
    case StorageFormat::Dense: return c.elements * value_bytes;
    case StorageFormat::Bitmap: return (c.elements + 7) / 8 + c.nonzeros * value_bytes;
    case StorageFormat::Csr: {
      const uint64_t index_bytes = c.row_length <= 65536 ? 2 : 4;
      return c.nonzeros * (value_bytes + index_bytes) + (c.rows + 1) * kCsrPointerBytes;
    }
    case StorageFormat::Rle: return (c.rle_entries * (8 * uint64_t(value_bytes) + kRleRunBits) + 7) / 8;
  }
  return 0;
}

namespace {
// Maps (samples) have CSR rows per channel plane; weights per filter.
int row_dims_of(TensorRole r) { return r == TensorRole::Weight ? 1 : 2; }
uint32_t clip(int64_t v, uint32_t hi) { return uint32_t(std::clamp<int64_t>(v, 0, hi)); }
uint64_t mix(uint64_t h, uint64_t v) {  // splitmix64 step: keys only need to be distinct, not secret
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  return h;
}
}  // namespace

PassOperands::PassOperands(const PassInput& in, const FormatChoice& formats, PrefixScratch* scratch)
    : in_(in), formats_(formats), scratch_(scratch) {
  for (int op = 0; op < 2; ++op) {
    const BitTensorView& v = view(op);
    if (formats.format[int(role(op))] == StorageFormat::Dense) continue;  // sized from its shape
    const uint64_t words = (v.numel() + 63) / 64;
    prefix_[op].resize(words + 1);
    prefix_popcounts(v.words, words, prefix_[op].data());
  }
  select_sample(in.sample);
}

void PassOperands::select_sample(uint32_t sample) {
  in_.sample = sample;
  for (int op = 0; op < 2; ++op) {
    const BitTensorView& v = view(op);
    const StorageFormat f = formats_.format[int(role(op))];
    TensorBox whole;
    whole.hi = v.dims;
    if (role(op) != TensorRole::Weight) {  // one sample of a map
      whole.lo[0] = sample;
      whole.hi[0] = sample + 1;
      // The map's 3-D prefix sums were the previous sample's.
      for (auto& o : (scratch_ ? scratch_->owner : own_scratch_.owner))
        if (o == this) o = nullptr;
    } else if (tensor_bytes_[op] != 0 || v.numel() == 0) {
      continue;  // the weights do not change with the sample
    }
    if (f == StorageFormat::Dense) {  // its size follows from its shape: the mask is never read
      tensor_bytes_[op] = format_bytes(box_shape(whole, row_dims_of(role(op))), f, formats_.value_bytes);
      continue;
    }
    const BoxContents c =
        count_box_with(Counter{v, prefix_[op].data()}, whole, row_dims_of(role(op)), f == StorageFormat::Rle);
    tensor_bytes_[op] = format_bytes(c, f, formats_.value_bytes);
  }
}

TensorBox PassOperands::box(int op, const GemmBlock& b) const {
  const LayerShape& l = in_.layer;
  const uint32_t n = in_.sample;
  TensorBox x;
  const int64_t st = l.stride;
  // Rows/columns of a map under a range of windows enumerated column-major (ox outer, oy inner) over
  // a win_h-tall output: one column gives its rows, several columns every row.
  auto windows = [&](uint32_t win_h, uint32_t m0, uint32_t m1, uint32_t& oy0, uint32_t& oy1, uint32_t& ox0,
                     uint32_t& ox1) {
    ox0 = m0 / win_h;
    ox1 = (m1 - 1) / win_h;
    if (ox0 == ox1) {
      oy0 = m0 % win_h;
      oy1 = (m1 - 1) % win_h;
    } else {
      oy0 = 0;
      oy1 = win_h - 1;
    }
  };
  if (b.m_end <= b.m_begin || b.n_end <= b.n_begin) return x;  // empty
  switch (in_.pass) {
    case Pass::Forward:
      if (op == 0) {
        uint32_t oy0, oy1, ox0, ox1;
        windows(l.Ho, b.m_begin, b.m_end, oy0, oy1, ox0, ox1);
        x.lo = {n, b.group * l.Cg(), clip(int64_t(oy0) * st - l.padding, l.H), clip(int64_t(ox0) * st - l.padding, l.W)};
        x.hi = {n + 1, (b.group + 1) * l.Cg(), clip(int64_t(oy1) * st - l.padding + l.R, l.H),
                clip(int64_t(ox1) * st - l.padding + l.S, l.W)};
      } else {
        x.lo = {b.group * l.Kg() + b.n_begin, 0, 0, 0};
        x.hi = {b.group * l.Kg() + b.n_end, l.Cg(), l.R, l.S};
      }
      break;
    case Pass::InputGrad:
      if (op == 0) {
        // Windows over the H x W input gradient read the dilated, padded dY: dY row y sits at padded
        // row top + y*stride, top = R-1-padding.
        uint32_t oy0, oy1, ox0, ox1;
        windows(l.H, b.m_begin, b.m_end, oy0, oy1, ox0, ox1);
        const int64_t top = int64_t(l.R) - 1 - l.padding, left = int64_t(l.S) - 1 - l.padding;
        auto first = [st](int64_t p) { return p <= 0 ? int64_t(0) : (p + st - 1) / st; };
        auto past = [st](int64_t p) { return p < 0 ? int64_t(0) : p / st + 1; };
        x.lo = {n, b.group * l.Kg(), clip(first(int64_t(oy0) - top), l.Ho), clip(first(int64_t(ox0) - left), l.Wo)};
        x.hi = {n + 1, (b.group + 1) * l.Kg(), clip(past(int64_t(oy1) + l.R - 1 - top), l.Ho),
                clip(past(int64_t(ox1) + l.S - 1 - left), l.Wo)};
      } else {
        x.lo = {b.group * l.Kg(), b.n_begin, 0, 0};
        x.hi = {(b.group + 1) * l.Kg(), b.n_end, l.R, l.S};
      }
      break;
    case Pass::WeightGrad:
      // Every kernel position reads the same channels of the map: the box (and key) ignores `outer`,
      // so a block kept on chip serves all R*S positions.
      if (op == 0) {
        x.lo = {n, b.group * l.Cg() + b.m_begin, 0, 0};
        x.hi = {n + 1, b.group * l.Cg() + b.m_end, l.H, l.W};
      } else {
        x.lo = {n, b.group * l.Kg() + b.n_begin, 0, 0};
        x.hi = {n + 1, b.group * l.Kg() + b.n_end, l.Ho, l.Wo};
      }
      break;
  }
  for (int d = 0; d < 4; ++d)
    if (x.hi[d] < x.lo[d]) x.hi[d] = x.lo[d];
  return x;
}

BoxContents PassOperands::map_box(int op, const TensorBox& x) const {
  // A map's boxes span many channel rows: count them in O(1) from 3-D prefix sums over this
  // sample's (c, h, w), built on first use.
  const BitTensorView& v = view(op);
  const uint64_t C = v.dims[1], H = v.dims[2], W = v.dims[3], sh = W + 1, sc = (H + 1) * (W + 1);
  PrefixScratch& scratch = scratch_ ? *scratch_ : own_scratch_;
  std::vector<uint32_t>& P = scratch.sums[op];
  if (scratch.owner[op] != this) {
    // Every entry is written: the zero borders here, the rest below (the buffer is reused across
    // jobs, so it is not cleared first: a large map's sums are megabytes).
    if (P.size() < (C + 1) * sc) P.resize((C + 1) * sc);
    std::fill(P.begin(), P.begin() + long(sc), 0u);
    const uint64_t base = v.index(in_.sample, 0, 0, 0);
    for (uint64_t c = 0; c < C; ++c) {
      uint32_t* plane = P.data() + (c + 1) * sc;
      const uint32_t* below = P.data() + c * sc;
      std::fill(plane, plane + sh, 0u);
      for (uint64_t h = 0; h < H; ++h) {
        uint32_t* out = plane + (h + 1) * sh;
        const uint32_t* up = plane + h * sh;
        const uint32_t* under = below + (h + 1) * sh;
        const uint32_t* corner = below + h * sh;
        out[0] = 0;
        uint32_t row = 0;
        const uint64_t first = base + (c * H + h) * W;
        for (uint64_t w = 0; w < W; ++w) {
          row += v.test(first + w) ? 1u : 0u;
          out[w + 1] = row + up[w + 1] + under[w + 1] - corner[w + 1];
        }
      }
    }
    scratch.owner[op] = this;
  }
  auto at = [&](uint64_t c, uint64_t h, uint64_t w) { return int64_t(P[c * sc + h * sh + w]); };
  const uint64_t c0 = x.lo[1], c1 = x.hi[1], h0 = x.lo[2], h1 = x.hi[2], w0 = x.lo[3], w1 = x.hi[3];
  BoxContents out;
  out.elements = x.elements();
  out.rows = out.elements ? uint64_t(c1 - c0) : 0;
  out.row_length = (h1 - h0) * (w1 - w0);
  if (out.elements)
    out.nonzeros = uint64_t(at(c1, h1, w1) - at(c0, h1, w1) - at(c1, h0, w1) - at(c1, h1, w0) + at(c0, h0, w1) +
                            at(c0, h1, w0) + at(c1, h0, w0) - at(c0, h0, w0));
  return out;
}

OperandBlock PassOperands::block(int op, const GemmBlock& b) const {
  const BitTensorView& v = view(op);
  const TensorRole r = role(op);
  const StorageFormat f = formats_.format[int(r)];
  const TensorBox x = box(op, b);
  OperandBlock out;
  out.role = r;
  if (f == StorageFormat::Dense)
    out.contents = box_shape(x, row_dims_of(r));
  else if (r != TensorRole::Weight && f != StorageFormat::Rle && x.lo[0] == in_.sample && x.hi[0] == in_.sample + 1 &&
           box_runs(v, x).count > kRunsCountedDirectly)
    out.contents = map_box(op, x);
  else
    out.contents = count_box_with(Counter{v, prefix_[op].data()}, x, row_dims_of(r), f == StorageFormat::Rle);
  uint64_t bytes = format_bytes(out.contents, f, formats_.value_bytes);
  // A reduction slice (dense arrays' WS/IS folds) reads its share of the block; the slices of a
  // block add up to the whole.
  if (b.k_parts > 1) bytes = bytes * (b.k_part + 1) / b.k_parts - bytes * b.k_part / b.k_parts;
  out.bytes = bytes;
  out.tensor = mix(v.id, r == TensorRole::Weight ? ~uint64_t(0) : in_.sample);
  uint64_t key = mix(out.tensor, uint64_t(r));
  for (int d = 0; d < 4; ++d) key = mix(mix(key, x.lo[d]), x.hi[d]);
  out.key = mix(mix(key, b.k_part), b.k_parts);
  out.tensor_bytes = tensor_bytes_[op];
  // Allocator: a tensor's blocks lie in C order inside its allocation, at the block's first
  // element's share of the tensor (docs/memory.md).
  const uint64_t numel = r == TensorRole::Weight ? v.numel() : v.numel() / std::max<uint32_t>(1, v.dims[0]);
  uint64_t first = v.index(x.lo[0], x.lo[1], x.lo[2], x.lo[3]);
  if (r != TensorRole::Weight) first -= v.index(in_.sample, 0, 0, 0);
  __extension__ typedef unsigned __int128 u128;
  out.offset = numel ? uint64_t(u128(first) * out.tensor_bytes / numel) : 0;
  out.span_end = out.offset;
  if (x.elements() > 0 && numel) {
    uint64_t last = v.index(x.hi[0] - 1, x.hi[1] - 1, x.hi[2] - 1, x.hi[3] - 1) + 1;
    if (r != TensorRole::Weight) last -= v.index(in_.sample, 0, 0, 0);
    out.span_end = std::min(out.tensor_bytes, uint64_t((u128(last) * out.tensor_bytes + numel - 1) / numel));
  }
  return out;
}

}  // namespace swatsim::arch
