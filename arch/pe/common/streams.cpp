#include "streams.hpp"
#include "arith.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "bits.hpp"

namespace swatsim::arch::streams {

namespace {
// Calls fn(k, c, r, s) for every non-zero weight of group g, k and c counted within the group.
template <class Fn>
void for_each_group_weight(const BitTensorView& w, const LayerShape& l, uint32_t g, Fn&& fn) {
  const uint64_t Cg = l.Cg(), per_k = Cg * l.R * l.S, base = uint64_t(g) * l.Kg() * per_k;
  bits::for_each_set(w, base, base + l.Kg() * per_k, [&](uint64_t i) {
    uint64_t x = i - base;
    const uint64_t s = x % l.S; x /= l.S;
    const uint64_t r = x % l.R; x /= l.R;
    fn(x / Cg, x % Cg, r, s);
  });
}
}  // namespace

bool Mapping::op0_sparser() const {
  __extension__ typedef unsigned __int128 u128;
  return u128(zeros[0]) * total[1] > u128(zeros[1]) * total[0];
}

PassStreams::PassStreams(const PassInput& in, uint32_t lanes) : in_(in) {
  const LayerShape& l = in.layer;
  m_.groups = l.groups;
  m_.lanes = lanes;
  // The operands' zeros are compared over the samples the choice of scheduled operand covers: this
  // sample alone, or the job's batch when the accelerator runs it as one GEMM (PassInput).
  const uint32_t n_begin = in.samples > 1 ? in.batch_begin : in.sample;
  const uint32_t n_end = in.samples > 1 ? in.batch_begin + in.samples : in.sample + 1, batch = n_end - n_begin;
  switch (in.pass) {
    case Pass::Forward: {
      m_.outer = 1;
      m_.streams[0] = l.Ho * l.Wo;
      m_.streams[1] = l.Kg();
      m_.T = uint32_t(ceil_div(l.Cg(), lanes)) * l.R * l.S;
      // Zero-padded input map of the sample (all channels, padding included) vs. the weights.
      const uint64_t plane = uint64_t(l.C) * l.H * l.W;
      m_.total[0] = uint64_t(l.C) * (l.H + 2 * l.padding) * (l.W + 2 * l.padding) * batch;
      m_.zeros[0] = m_.total[0] - in.a.count(n_begin * plane, n_end * plane);
      m_.total[1] = in.b.numel();
      m_.zeros[1] = m_.total[1] - in.b.count(0, in.b.numel());
      break;
    }
    case Pass::InputGrad: {
      m_.outer = 1;
      m_.streams[0] = l.H * l.W;
      m_.streams[1] = l.Cg();
      m_.T = uint32_t(ceil_div(l.Kg(), lanes)) * l.R * l.S;
      // The padded, dilated output gradient vs. the weights. The map is (H+R-1) x (W+S-1); with
      // padding > R-1 the border of dY falls outside it and is not counted.
      m_.total[0] = uint64_t(l.K) * (l.H + l.R - 1) * (l.W + l.S - 1) * batch;
      const int64_t top = int64_t(l.R) - 1 - l.padding, left = int64_t(l.S) - 1 - l.padding;
      const int64_t st = l.stride, hp = l.H + l.R - 1, wp = l.W + l.S - 1;
      auto first_in = [st](int64_t off) { return off >= 0 ? int64_t(0) : (-off + st - 1) / st; };
      const int64_t oy0 = first_in(top), oy1 = std::min<int64_t>(l.Ho, (hp - 1 - top) / st + 1);
      const int64_t ox0 = first_in(left), ox1 = std::min<int64_t>(l.Wo, (wp - 1 - left) / st + 1);
      uint64_t nnz = 0;
      if (oy1 > oy0 && ox1 > ox0)
        for (uint32_t n = n_begin; n < n_end; ++n)
          for (uint32_t k = 0; k < l.K; ++k)
            for (int64_t oy = oy0; oy < oy1; ++oy) {
              const uint64_t base = in.a.index(n, k, uint32_t(oy), 0);
              nnz += in.a.count(base + uint64_t(ox0), base + uint64_t(ox1));
            }
      m_.zeros[0] = m_.total[0] - nnz;
      m_.total[1] = in.b.numel();
      m_.zeros[1] = m_.total[1] - in.b.count(0, in.b.numel());
      break;
    }
    case Pass::WeightGrad: {
      m_.outer = l.R * l.S;
      m_.streams[0] = l.Cg();
      m_.streams[1] = l.Kg();
      m_.T = uint32_t(ceil_div(uint64_t(l.Ho) * l.Wo, lanes));
      // Top-left Ho x Wo region of the zero-padded input map (all channels) vs. the gradient.
      m_.total[0] = uint64_t(l.C) * l.Ho * l.Wo * batch;
      uint64_t nnz = 0;
      const int64_t p = l.padding;
      const int64_t y0 = std::max<int64_t>(0, -p), y1 = std::min<int64_t>(l.H, int64_t(l.Ho) - p);
      const int64_t x0 = std::max<int64_t>(0, -p), x1 = std::min<int64_t>(l.W, int64_t(l.Wo) - p);
      if (y1 > y0 && x1 > x0) {
        for (uint32_t n = n_begin; n < n_end; ++n)
          for (uint32_t c = 0; c < l.C; ++c)
            for (int64_t y = y0; y < y1; ++y) {
              const uint64_t base = in.a.index(n, c, uint32_t(y), 0);
              nnz += in.a.count(base + uint64_t(x0), base + uint64_t(x1));
            }
      }
      m_.zeros[0] = m_.total[0] - nnz;
      const uint64_t plane = uint64_t(l.K) * l.Ho * l.Wo;
      m_.total[1] = plane * batch;
      m_.zeros[1] = m_.total[1] - in.b.count(n_begin * plane, n_end * plane);
      break;
    }
  }
}

void PassStreams::set_group(uint32_t g) {
  if (g != g_) {
    g_ = g;
    ready_[0] = ready_[1] = false;
  }
}

// Forward, operand 0: the input map.
void PassStreams::prepare_forward_map() {
  const LayerShape& l = in_.layer;
  const uint32_t n = in_.sample, g = g_;
  const uint32_t Cg = l.Cg();
  // Pixel-major channel bitsets of the zero-padded input map of this group.
  hp_ = l.H + 2 * l.padding;
  wp_ = l.W + 2 * l.padding;
  cw_ = uint32_t(ceil_div(Cg, 64));
  map0_.assign(uint64_t(hp_) * wp_ * cw_, 0);
  const uint64_t hw = uint64_t(l.H) * l.W;
  for (uint32_t c = 0; c < Cg; ++c) {
    const uint64_t base = in_.a.index(n, g * Cg + c, 0, 0);
    bits::for_each_set(in_.a, base, base + hw, [&](uint64_t i) {
      const uint64_t yx = i - base, y = yx / l.W, x = yx % l.W;
      map0_[((y + l.padding) * wp_ + x + l.padding) * cw_ + (c >> 6)] |= uint64_t(1) << (c & 63);
    });
  }
}

// Forward, operand 1: the filters.
void PassStreams::prepare_forward_filters() {
  const LayerShape& l = in_.layer;
  const uint32_t g = g_;
  const uint32_t Cg = l.Cg(), Kg = l.Kg();
  // Filter table [k][s][r] -> bitset over input channels c.
  cw1_ = uint32_t(ceil_div(Cg, 64));
  map1_.assign(uint64_t(Kg) * l.S * l.R * cw1_, 0);
  for_each_group_weight(in_.b, l, g, [&](uint64_t k, uint64_t c, uint64_t r, uint64_t s) {
    map1_[((k * l.S + s) * l.R + r) * cw1_ + (c >> 6)] |= uint64_t(1) << (c & 63);
  });
}

// Input gradient, operand 0: the dilated, padded output gradient.
void PassStreams::prepare_input_grad_map() {
  const LayerShape& l = in_.layer;
  const uint32_t n = in_.sample, g = g_;
  const uint32_t Kg = l.Kg();
  // Pixel-major bitsets over gradient channels k of dY dilated by the stride and padded by
  // R-1-pad (top/left); windows of size R x S at stride 1 give the H x W input gradient.
  hp_ = l.H + l.R - 1;
  wp_ = l.W + l.S - 1;
  cw_ = uint32_t(ceil_div(Kg, 64));
  map0_.assign(uint64_t(hp_) * wp_ * cw_, 0);
  const int64_t top = int64_t(l.R) - 1 - l.padding, left = int64_t(l.S) - 1 - l.padding;
  const uint64_t hw = uint64_t(l.Ho) * l.Wo;
  for (uint32_t k = 0; k < Kg; ++k) {
    const uint64_t base = in_.a.index(n, g * Kg + k, 0, 0);
    bits::for_each_set(in_.a, base, base + hw, [&](uint64_t i) {
      const uint64_t yx = i - base;
      const int64_t y = int64_t(yx / l.Wo) * l.stride + top;
      const int64_t x = int64_t(yx % l.Wo) * l.stride + left;
      if (y < 0 || x < 0 || y >= int64_t(hp_) || x >= int64_t(wp_)) return;
      map0_[(uint64_t(y) * wp_ + uint64_t(x)) * cw_ + (k >> 6)] |= uint64_t(1) << (k & 63);
    });
  }
}

// Input gradient, operand 1: the rotated, transposed filters.
void PassStreams::prepare_input_grad_filters() {
  const LayerShape& l = in_.layer;
  const uint32_t g = g_;
  const uint32_t Cg = l.Cg(), Kg = l.Kg();
  // Rotated, transposed weights: table [c][s'][r'] -> bitset over k, W'[c,k,r',s'] =
  // W[k,c,R-1-r',S-1-s'].
  cw1_ = uint32_t(ceil_div(Kg, 64));
  map1_.assign(uint64_t(Cg) * l.S * l.R * cw1_, 0);
  for_each_group_weight(in_.b, l, g, [&](uint64_t k, uint64_t c, uint64_t r, uint64_t s) {
    const uint64_t s2 = l.S - 1 - s, r2 = l.R - 1 - r;
    map1_[((c * l.S + s2) * l.R + r2) * cw1_ + (k >> 6)] |= uint64_t(1) << (k & 63);
  });
}

// Weight gradient, operand 0: the saved activation.
void PassStreams::prepare_weight_grad_map() {
  const LayerShape& l = in_.layer;
  const uint32_t n = in_.sample, g = g_;
  const uint32_t Cg = l.Cg();
  // Column-major zero-padded map per channel: bit X*Hp + Y.
  hp_ = l.H + 2 * l.padding;
  wp_ = l.W + 2 * l.padding;
  plane_words_ = ceil_div(uint64_t(hp_) * wp_, 64);
  map0_.assign(plane_words_ * Cg, 0);
  const uint64_t hw = uint64_t(l.H) * l.W;
  for (uint32_t c = 0; c < Cg; ++c) {
    const uint64_t base = in_.a.index(n, g * Cg + c, 0, 0);
    uint64_t* plane = map0_.data() + c * plane_words_;
    bits::for_each_set(in_.a, base, base + hw, [&](uint64_t i) {
      const uint64_t yx = i - base, y = yx / l.W + l.padding, x = yx % l.W + l.padding;
      const uint64_t b = x * hp_ + y;
      plane[b >> 6] |= uint64_t(1) << (b & 63);
    });
  }
}

// Weight gradient, operand 1: the output gradient.
void PassStreams::prepare_weight_grad_gradient() {
  const LayerShape& l = in_.layer;
  const uint32_t n = in_.sample, g = g_;
  const uint32_t Kg = l.Kg();
  // Output gradient per channel at position q = ox*Ho + oy.
  cw1_ = uint32_t(ceil_div(uint64_t(m_.T) * m_.lanes, 64));
  map1_.assign(uint64_t(cw1_) * Kg, 0);
  const uint64_t hw = uint64_t(l.Ho) * l.Wo;
  for (uint32_t k = 0; k < Kg; ++k) {
    const uint64_t base = in_.b.index(n, g * Kg + k, 0, 0);
    uint64_t* q = map1_.data() + uint64_t(k) * cw1_;
    bits::for_each_set(in_.b, base, base + hw, [&](uint64_t i) {
      const uint64_t yx = i - base, oy = yx / l.Wo, ox = yx % l.Wo;
      const uint64_t b = ox * l.Ho + oy;
      q[b >> 6] |= uint64_t(1) << (b & 63);
    });
  }
}

void PassStreams::prepare(int op) {
  switch (in_.pass) {
    case Pass::Forward: op == 0 ? prepare_forward_map() : prepare_forward_filters(); break;
    case Pass::InputGrad: op == 0 ? prepare_input_grad_map() : prepare_input_grad_filters(); break;
    case Pass::WeightGrad: op == 0 ? prepare_weight_grad_map() : prepare_weight_grad_gradient(); break;
  }
  ready_[op] = true;
}

void PassStreams::build(int op, uint32_t o, uint32_t first, uint32_t count, uint32_t stride,
                        uint64_t* out) {
  assert(count <= stride && first + count <= m_.streams[op]);
  if (!ready_[op]) prepare(op);
  const LayerShape& l = in_.layer;
  const uint32_t L = m_.lanes, T = m_.T;
  std::fill(out, out + uint64_t(T) * stride, uint64_t(0));
  if (in_.pass != Pass::WeightGrad) {
    // Forward mapping: step t = (s*R + r)*CC + cc, lanes = channel chunk cc.
    const uint32_t R = l.R, S = l.S;
    const uint32_t chans = in_.pass == Pass::Forward ? l.Cg() : l.Kg();  // lanes run over these
    const uint32_t CC = uint32_t(ceil_div(chans, L));
    if (op == 0) {
      const uint32_t win_h = in_.pass == Pass::Forward ? l.Ho : l.H;
      const uint32_t st = in_.pass == Pass::Forward ? l.stride : 1;
      for (uint32_t j = 0; j < count; ++j) {
        const uint32_t w = first + j, ox = w / win_h, oy = w % win_h;
        for (uint32_t s = 0; s < S; ++s)
          for (uint32_t r = 0; r < R; ++r) {
            const uint64_t* px = map0_.data() + (uint64_t(oy * st + r) * wp_ + ox * st + s) * cw_;
            const uint64_t t0 = uint64_t(s * R + r) * CC;
            for (uint32_t cc = 0; cc < CC; ++cc)
              out[(t0 + cc) * stride + j] = bits::get(px, uint64_t(cc) * L, std::min(L, chans - cc * L));
          }
      }
    } else {
      for (uint32_t j = 0; j < count; ++j) {
        const uint32_t f = first + j;
        for (uint32_t s = 0; s < S; ++s)
          for (uint32_t r = 0; r < R; ++r) {
            const uint64_t* px = map1_.data() + ((uint64_t(f) * S + s) * R + r) * cw1_;
            const uint64_t t0 = uint64_t(s * R + r) * CC;
            for (uint32_t cc = 0; cc < CC; ++cc)
              out[(t0 + cc) * stride + j] = bits::get(px, uint64_t(cc) * L, std::min(L, chans - cc * L));
          }
      }
    }
    return;
  }
  // Weight gradient: lanes are L consecutive output positions q = ox*Ho + oy.
  const uint64_t qwords = ceil_div(uint64_t(T) * L, 64);
  if (op == 1) {
    for (uint32_t j = 0; j < count; ++j) {
      const uint64_t* q = map1_.data() + uint64_t(first + j) * cw1_;
      for (uint32_t t = 0; t < T; ++t) out[uint64_t(t) * stride + j] = bits::get(q, uint64_t(t) * L, L);
    }
    return;
  }
  const uint32_t r = o % l.R, s = o / l.R;  // kernel row fastest
  tmp_.assign(qwords + 1, 0);
  for (uint32_t j = 0; j < count; ++j) {
    std::fill(tmp_.begin(), tmp_.end(), uint64_t(0));
    const uint64_t* plane = map0_.data() + uint64_t(first + j) * plane_words_;
    for (uint32_t ox = 0; ox < l.Wo; ++ox) {
      const uint64_t col = uint64_t(ox * l.stride + s) * hp_;
      if (l.stride == 1) {
        bits::copy_or(tmp_.data(), uint64_t(ox) * l.Ho, plane, col + r, l.Ho);
      } else {
        for (uint32_t oy = 0; oy < l.Ho; ++oy) {
          const uint64_t b = col + oy * l.stride + r;
          if ((plane[b >> 6] >> (b & 63)) & 1u) {
            const uint64_t d = uint64_t(ox) * l.Ho + oy;
            tmp_[d >> 6] |= uint64_t(1) << (d & 63);
          }
        }
      }
    }
    for (uint32_t t = 0; t < T; ++t) out[uint64_t(t) * stride + j] = bits::get(tmp_.data(), uint64_t(t) * L, L);
  }
}

}  // namespace swatsim::arch::streams
