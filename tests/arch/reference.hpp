#pragma once
// Slow, obviously-correct twins of the timing kernels: element-by-element streams, the scheduler
// as REFERENCE.md §2 words it, and a per-cycle walk. Tests compare the fast kernels with these.
#include <array>
#include <cassert>
#include <cstdint>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "swatsim/arch/layer.hpp"
#include "swatsim/arch/operand.hpp"
#include "pe/tensordash/kernel.hpp"

namespace ref {

using swatsim::arch::BitTensorView;
using swatsim::arch::LayerShape;
using swatsim::arch::Pass;
using swatsim::arch::PassInput;
namespace td = swatsim::arch::tensordash;

/// A mask owned by a test: words plus a view of them.
struct OwnedMask {
  std::vector<uint64_t> words;
  BitTensorView view;
  OwnedMask() = default;
  OwnedMask(std::array<uint32_t, 4> dims, double density, std::mt19937_64& rng, uint64_t id = 0) {
    view.dims = dims;
    words.assign((view.numel() + 63) / 64, 0);
    std::bernoulli_distribution b(density);
    for (uint64_t i = 0; i < view.numel(); ++i)
      if (b(rng)) words[i >> 6] |= uint64_t(1) << (i & 63);
    view.words = words.data();
    view.id = id;
  }
  OwnedMask(const OwnedMask&) = delete;
  OwnedMask& operator=(const OwnedMask&) = delete;
};

/// The candidate list as REFERENCE.md §2 words it, written independently of the kernel:
/// (1,0)…(H,0); T-shape adds D zig-zag entries (start h=1, d=1; add (h,d), then d = −d, and after
/// entries 2, 4, 6, … also d += 1 and h += 1, h wrapping back to 1 past H); L-shape adds
/// (1,−1)…(1,−D). The whole list sorted by (h, d).
inline std::vector<td::Offset> candidates(int H, int D, td::Shape shape) {
  std::vector<td::Offset> c;
  for (int h = 1; h <= H; ++h) c.push_back({h, 0});
  if (shape == td::Shape::T) {
    int h = 1, d = 1;
    for (int entry = 1; entry <= D; ++entry) {
      c.push_back({h, d});
      d = -d;
      if (entry % 2 == 0) {
        d = d + 1;
        h = h + 1;
        if (h > H) h = 1;
      }
    }
  } else {
    for (int d = 1; d <= D; ++d) c.push_back({1, -d});
  }
  // sorted by (h, d): a plain insertion sort, no shared comparator with the kernel
  for (size_t i = 1; i < c.size(); ++i)
    for (size_t j = i; j > 0 && (c[j].h < c[j - 1].h || (c[j].h == c[j - 1].h && c[j].d < c[j - 1].d)); --j)
      std::swap(c[j], c[j - 1]);
  return c;
}

/// The lane visiting order as REFERENCE.md §2 words it: for start = the lowest unvisited lane,
/// visit pos = start, start+D, … while pos < L−D+start and pos < L; repeat until all L lanes are
/// visited. With D = 0 there is no lookaside and the order is 0..L−1 (the loop would not advance).
/// Lookaside is always < lanes (config check), so every round visits at least its start lane.
inline std::vector<int> lane_order(int L, int D) {
  std::vector<int> order;
  std::vector<bool> visited(size_t(L), false);
  if (D == 0) {
    for (int i = 0; i < L; ++i) order.push_back(i);
    return order;
  }
  assert(D > 0 && D < L);
  while (int(order.size()) < L) {
    int start = 0;
    while (visited[size_t(start)]) ++start;
    for (int pos = start; pos < L - D + start && pos < L; pos += D) {
      visited[size_t(pos)] = true;
      order.push_back(pos);
    }
  }
  return order;
}

// buf[t][r][i]
using Buffer = std::vector<std::vector<std::vector<bool>>>;

/// The scheduler, literally: steps in order with a skip counter; for each group and each lane in
/// the lane order whose value is zero, the first candidate with a non-zero moves in.
inline void schedule(Buffer& b, int H, const std::vector<td::Offset>& cands, const std::vector<int>& order) {
  const int T = int(b.size());
  if (T == 0) return;
  const int rows = int(b[0].size()), L = int(b[0][0].size());
  int skip = 0;
  for (int t = 0; t < T; ++t) {
    bool empty = true;
    for (int r = 0; r < rows; ++r)
      for (int i = 0; i < L; ++i) empty = empty && !b[t][r][i];
    if (skip < H && empty) {
      ++skip;
      continue;
    }
    skip = 0;
    if (!(t + 1 < T)) continue;
    for (int r = 0; r < rows; ++r)
      for (int i : order) {
        if (b[t][r][i]) continue;
        for (const auto& c : cands) {
          if (t + c.h >= T) continue;
          const int j = ((i + c.d) % L + L) % L;
          if (b[t + c.h][r][j]) {
            b[t + c.h][r][j] = false;
            b[t][r][i] = true;
            break;
          }
        }
      }
  }
}

/// The per-cycle walk: returns cycles; `counter` carries in and out.
inline uint64_t walk(const Buffer& b, int H, int& counter) {
  uint64_t cycles = 0;
  for (const auto& step : b) {
    bool empty = true;
    for (const auto& g : step)
      for (bool v : g) empty = empty && !v;
    if (empty && counter < H) {
      ++counter;
    } else {
      ++cycles;
      counter = 0;
    }
  }
  return cycles;
}

struct Geometry {
  uint32_t outer, streams[2], T;
};

inline Geometry geometry(const PassInput& in, uint32_t L) {
  const LayerShape& l = in.layer;
  auto cdiv = [](uint64_t a, uint64_t b) { return uint32_t((a + b - 1) / b); };
  switch (in.pass) {
    case Pass::Forward: return {1, {l.Ho * l.Wo, l.Kg()}, cdiv(l.Cg(), L) * l.R * l.S};
    case Pass::InputGrad: return {1, {l.H * l.W, l.Cg()}, cdiv(l.Kg(), L) * l.R * l.S};
    case Pass::WeightGrad: return {l.R * l.S, {l.Cg(), l.Kg()}, cdiv(uint64_t(l.Ho) * l.Wo, L)};
  }
  return {};
}

inline bool act_at(const PassInput& in, uint32_t c, int64_t y, int64_t x) {  // unpadded coords
  const LayerShape& l = in.layer;
  if (y < 0 || x < 0 || y >= int64_t(l.H) || x >= int64_t(l.W)) return false;
  return in.a.test(in.sample, c, uint32_t(y), uint32_t(x));
}

/// Element (lane i of step t) of stream j of operand op, group g, outer position o.
inline bool element(const PassInput& in, uint32_t L, int op, uint32_t g, uint32_t o, uint32_t j,
                    uint32_t t, uint32_t i) {
  const LayerShape& l = in.layer;
  const int64_t p = l.padding, st = l.stride;
  const uint32_t Cg = l.Cg(), Kg = l.Kg();
  if (in.pass == Pass::WeightGrad) {
    const uint64_t q = uint64_t(t) * L + i;
    if (q >= uint64_t(l.Ho) * l.Wo) return false;
    const int64_t ox = int64_t(q / l.Ho), oy = int64_t(q % l.Ho);
    if (op == 1) return in.b.test(in.sample, g * Kg + j, uint32_t(oy), uint32_t(ox));
    const int64_t r = o % l.R, s = o / l.R;
    return act_at(in, g * Cg + j, oy * st + r - p, ox * st + s - p);
  }
  const uint32_t chans = in.pass == Pass::Forward ? Cg : Kg;
  const uint32_t CC = (chans + L - 1) / L;
  const uint32_t cc = t % CC, sr = t / CC, r = sr % l.R, s = sr / l.R;
  const uint32_t ch = cc * L + i;
  if (ch >= chans) return false;
  if (in.pass == Pass::Forward) {
    if (op == 1) return in.b.test(g * Kg + j, ch, r, s);
    const int64_t ox = j / l.Ho, oy = j % l.Ho;
    return act_at(in, g * Cg + ch, oy * st + r - p, ox * st + s - p);
  }
  // input gradient
  if (op == 1) return in.b.test(g * Kg + ch, j, l.R - 1 - r, l.S - 1 - s);
  const int64_t x = j / l.H, y = j % l.H;
  const int64_t Y = y + r - (int64_t(l.R) - 1 - p), X = x + s - (int64_t(l.S) - 1 - p);
  if (Y < 0 || X < 0 || Y % st || X % st) return false;
  if (Y / st >= l.Ho || X / st >= l.Wo) return false;
  return in.a.test(in.sample, g * Kg + ch, uint32_t(Y / st), uint32_t(X / st));
}

/// Zero fractions as (zeros, total) of the two compared tensors, counted element by element.
inline std::pair<std::pair<uint64_t, uint64_t>, std::pair<uint64_t, uint64_t>> zero_counts(const PassInput& in) {
  const LayerShape& l = in.layer;
  uint64_t z0 = 0, t0 = 0, z1 = 0, t1 = 0;
  const int64_t p = l.padding;
  switch (in.pass) {
    case Pass::Forward:
      for (uint32_t c = 0; c < l.C; ++c)
        for (int64_t y = -p; y < int64_t(l.H) + p; ++y)
          for (int64_t x = -p; x < int64_t(l.W) + p; ++x) { ++t0; z0 += !act_at(in, c, y, x); }
      break;
    case Pass::InputGrad:
      // every position of the padded, dilated map, looked up element by element
      for (uint32_t k = 0; k < l.K; ++k)
        for (int64_t Y = 0; Y < int64_t(l.H + l.R - 1); ++Y)
          for (int64_t X = 0; X < int64_t(l.W + l.S - 1); ++X) {
            ++t0;
            const int64_t yd = Y - (int64_t(l.R) - 1 - p), xd = X - (int64_t(l.S) - 1 - p);
            const int64_t st = l.stride;
            const bool on = yd >= 0 && xd >= 0 && yd % st == 0 && xd % st == 0 && yd / st < l.Ho &&
                            xd / st < l.Wo && in.a.test(in.sample, k, uint32_t(yd / st), uint32_t(xd / st));
            z0 += !on;
          }
      break;
    case Pass::WeightGrad:
      for (uint32_t c = 0; c < l.C; ++c)
        for (int64_t y = 0; y < int64_t(l.Ho); ++y)
          for (int64_t x = 0; x < int64_t(l.Wo); ++x) { ++t0; z0 += !act_at(in, c, y - p, x - p); }
      for (uint32_t k = 0; k < l.K; ++k)
        for (uint32_t y = 0; y < l.Ho; ++y)
          for (uint32_t x = 0; x < l.Wo; ++x) { ++t1; z1 += !in.b.test(in.sample, k, y, x); }
      return {{z0, t0}, {z1, t1}};
  }
  t1 = in.b.numel();
  for (uint64_t i = 0; i < t1; ++i) z1 += !in.b.test(i);
  return {{z0, t0}, {z1, t1}};
}

struct TdParams {
  int rows, cols, lanes, H, D;
  td::Shape shape;
};

/// TensorDash compute cycles (and base cycles) of one pass of one sample, per REFERENCE §2.
inline std::pair<uint64_t, uint64_t> tensordash_pass(const PassInput& in, const TdParams& p) {
  const uint32_t L = uint32_t(p.lanes);
  const Geometry geo = geometry(in, L);
  const auto zc = zero_counts(in);
  // op0 scheduled iff its zero fraction is strictly larger
  const bool sched0 = (long double)zc.first.first / zc.first.second >
                      (long double)zc.second.first / zc.second.second;
  const int sop = sched0 ? 0 : 1;
  const uint32_t size[2] = {sched0 ? uint32_t(p.rows) : uint32_t(p.cols),
                            sched0 ? uint32_t(p.cols) : uint32_t(p.rows)};
  const uint32_t nsets[2] = {(geo.streams[0] + size[0] - 1) / size[0], (geo.streams[1] + size[1] - 1) / size[1]};
  const auto cands = ref::candidates(p.H, p.D, p.shape);
  const auto order = ref::lane_order(p.lanes, p.D);
  uint64_t cycles = 0, base = 0;
  int counter = 0;
  for (uint32_t g = 0; g < in.layer.groups; ++g)
    for (uint32_t o = 0; o < geo.outer; ++o)
      for (uint32_t i0 = 0; i0 < nsets[0]; ++i0)
        for (uint32_t i1 = 0; i1 < nsets[1]; ++i1) {
          const uint32_t set = sop == 0 ? i0 : i1;
          Buffer b(geo.T, std::vector<std::vector<bool>>(size_t(p.rows), std::vector<bool>(L, false)));
          for (uint32_t t = 0; t < geo.T; ++t)
            for (uint32_t r = 0; r < uint32_t(p.rows); ++r) {
              const uint32_t j = set * uint32_t(p.rows) + r;
              if (j >= geo.streams[sop]) continue;
              for (uint32_t i = 0; i < L; ++i) b[t][r][i] = element(in, L, sop, g, o, j, t, i);
            }
          schedule(b, p.H, cands, order);
          cycles += walk(b, p.H, counter);
          base += geo.T;
        }
  return {cycles, base};
}

}  // namespace ref
