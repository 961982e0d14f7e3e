#include "kernel.hpp"

#include <algorithm>
#include <cassert>

#include "swatsim/common/hw_popcount.hpp"

namespace swatsim::arch::tensordash {

std::vector<Offset> candidates(int H, int D, Shape shape) {
  std::vector<Offset> c;
  for (int h = 1; h <= H; ++h) c.push_back({h, 0});
  if (shape == Shape::T) {
    // Zig-zag: (1,1), (1,-1), then d += 1 and h += 1 (wrapping past H) after every second entry.
    int h = 1, d = 1;
    for (int e = 1; e <= D; ++e) {
      c.push_back({h, d});
      d = -d;
      if (e % 2 == 0) {
        d += 1;
        h += 1;
        if (h > H) h = 1;
      }
    }
  } else {
    for (int d = 1; d <= D; ++d) c.push_back({1, -d});
  }
  std::sort(c.begin(), c.end(), [](const Offset& a, const Offset& b) {
    return a.h != b.h ? a.h < b.h : a.d < b.d;
  });
  return c;
}

std::vector<int> lane_order(int L, int D) {
  std::vector<int> order;
  if (D <= 0) {
    for (int i = 0; i < L; ++i) order.push_back(i);
    return order;
  }
  std::vector<bool> seen(size_t(L), false);
  int visited = 0;
  while (visited < L) {
    int start = 0;
    while (seen[size_t(start)]) ++start;
    bool any = false;
    for (int pos = start; pos < L - D + start && pos < L; pos += D) {
      if (seen[size_t(pos)]) continue;
      seen[size_t(pos)] = true;
      order.push_back(pos);
      ++visited;
      any = true;
    }
    if (!any) {  // the loop bound admits no lane when D >= L: visit the start lane alone
      seen[size_t(start)] = true;
      order.push_back(start);
      ++visited;
    }
  }
  return order;
}

Scheduler::Scheduler(int lanes, int lookahead, int lookaside, Shape shape, int rows)
    : L_(lanes), H_(lookahead), rows_(rows),
      full_(lanes >= 64 ? ~uint64_t(0) : (uint64_t(1) << lanes) - 1),
      cands_(candidates(lookahead, lookaside, shape)), order_(lane_order(lanes, lookaside)) {
  assert(lanes >= 1 && lanes <= 64 && lookahead >= 1 && rows >= 1);
  const int nc = int(cands_.size());
  cand_lane_.resize(size_t(L_) * size_t(nc));
  for (int i = 0; i < L_; ++i)
    for (int c = 0; c < nc; ++c) cand_lane_[size_t(i * nc + c)] = (((i + cands_[size_t(c)].d) % L_) + L_) % L_;
  first_with_h_.resize(size_t(H_) + 1);
  for (int x = 0; x <= H_; ++x) {
    int idx = 0;
    while (idx < nc && cands_[size_t(idx)].h <= x) ++idx;
    first_with_h_[size_t(x)] = idx;
  }
  // perm_[byte * 256 + v]: the lanes of byte `byte` set in v, as bits at their positions in order_,
  // so that the lanes to fill are visited in order by walking set bits.
  perm_bytes_ = uint32_t((L_ + 7) / 8);
  std::vector<int> position(static_cast<size_t>(L_), 0);
  for (int k = 0; k < L_; ++k) position[size_t(order_[size_t(k)])] = k;
  perm_.assign(size_t(perm_bytes_) * 256, 0);
  for (uint32_t b = 0; b < perm_bytes_; ++b)
    for (uint32_t v = 0; v < 256; ++v)
      for (uint32_t j = 0; j < 8; ++j) {
        const uint32_t lane = 8 * b + j;
        if (lane < uint32_t(L_) && ((v >> j) & 1)) perm_[b * 256 + v] |= uint64_t(1) << position[lane];
      }
  init_packed();
}

void Scheduler::init_packed() {
  packed_ = uint64_t(L_) * uint64_t(rows_) <= 64;
  if (!packed_) return;
  const uint32_t L = uint32_t(L_);
  const auto every_row = [&](uint64_t lanes) {
    uint64_t x = 0;
    for (uint32_t r = 0; r < uint32_t(rows_); ++r) x |= lanes << (r * L);
    return x;
  };
  const auto below = [&](uint32_t n) { return n >= 64 ? ~uint64_t(0) : (uint64_t(1) << n) - 1; };
  packed_full_ = every_row(full_);
  for (const Offset& o : cands_) {
    PackedCandidate pc;
    pc.h = uint32_t(o.h);
    pc.s = uint32_t(((o.d % L_) + L_) % L_);
    pc.to_lo = every_row(below(L - pc.s));          // lanes whose source lies s lanes above them
    pc.to_hi = every_row(full_ & ~below(L - pc.s));  // lanes whose source wrapped round to the bottom
    pc.back_hi = every_row(full_ & ~below(pc.s));    // sources of the to_lo lanes
    pc.back_lo = every_row(below(pc.s));             // sources of the to_hi lanes
    pcands_.push_back(pc);
  }
  // Rounds: consecutive lanes of the visiting order with pairwise disjoint sources.
  std::vector<uint64_t> used(size_t(H_) + 1, 0);
  uint64_t round = 0;
  const size_t nc = cands_.size();
  for (const int i : order_) {
    std::vector<uint64_t> mine(size_t(H_) + 1, 0);
    for (size_t c = 0; c < nc; ++c)
      mine[size_t(cands_[c].h)] |= uint64_t(1) << cand_lane_[size_t(i) * nc + c];
    bool clash = false;
    for (size_t h = 0; h < used.size(); ++h) clash |= (used[h] & mine[h]) != 0;
    if (clash) {
      round_lanes_.push_back(every_row(round));
      round = 0;
      std::fill(used.begin(), used.end(), 0);
    }
    for (size_t h = 0; h < used.size(); ++h) used[h] |= mine[h];
    round |= uint64_t(1) << i;
  }
  if (round) round_lanes_.push_back(every_row(round));
}

void Scheduler::schedule(uint64_t* buf, uint32_t T) const {
  if (packed_)
    schedule_packed(buf, T);
  else
    schedule_by_lane(buf, T);
}

void Scheduler::schedule_packed(uint64_t* buf, uint32_t T) const {
  const uint32_t rows = uint32_t(rows_), L = uint32_t(L_);
  // Pack in place: step t's word lands at buf[t], which no later step still has to read.
  for (uint32_t t = 0; t < T; ++t) {
    uint64_t x = 0;
    for (uint32_t r = 0; r < rows; ++r) x |= buf[uint64_t(t) * rows + r] << (r * L);
    buf[t] = x;
  }
  const size_t nrounds = round_lanes_.size();
  int skip = 0;
  for (uint32_t t = 0; t < T; ++t) {
    uint64_t* step = buf + t;
    uint64_t w = *step;
    if (w == 0 && skip < H_) {
      ++skip;
      continue;
    }
    skip = 0;
    if (t + 1 >= T) continue;
    const uint64_t need = ~w & packed_full_;
    if (need == 0) continue;
    const int hmax = int(std::min<uint64_t>(uint64_t(H_), uint64_t(T - 1 - t)));
    const int ncu = first_with_h_[size_t(hmax)];
    for (size_t g = 0; g < nrounds; ++g) {
      uint64_t open = need & round_lanes_[g];
      for (int c = 0; c < ncu && open; ++c) {
        const PackedCandidate& pc = pcands_[size_t(c)];
        const uint64_t x = step[pc.h];
        const uint64_t got = (((x >> pc.s) & pc.to_lo) | ((x << ((L - pc.s) & 63)) & pc.to_hi)) & open;
        if (got == 0) continue;
        step[pc.h] = x & ~(((got << pc.s) & pc.back_hi) | ((got >> ((L - pc.s) & 63)) & pc.back_lo));
        w |= got;
        open &= ~got;
      }
    }
    *step = w;
  }
  // Unpack in place, last step first, so that no packed word is overwritten before it is read.
  for (uint32_t t = T; t-- > 0;) {
    const uint64_t x = buf[t];
    for (uint32_t r = rows; r-- > 0;) buf[uint64_t(t) * rows + r] = (x >> (r * L)) & full_;
  }
}


void Scheduler::schedule_by_lane(uint64_t* buf, uint32_t T) const {
  const int nc = int(cands_.size());
  const uint32_t rows = uint32_t(rows_);
  // Per candidate: offset of its step's lane group relative to the slot's, and its rotation.
  uint64_t hoff[256];
  int rot_by[256];
  assert(nc <= 256);
  for (int c = 0; c < nc; ++c) {
    hoff[c] = uint64_t(cands_[size_t(c)].h) * rows;
    rot_by[c] = ((cands_[size_t(c)].d % L_) + L_) % L_;
  }
  int skip = 0;
  for (uint32_t t = 0; t < T; ++t) {
    uint64_t* step = buf + uint64_t(t) * rows;
    uint64_t any = 0;
    for (uint32_t r = 0; r < rows; ++r) any |= step[r];
    if (any == 0 && skip < H_) {
      ++skip;
      continue;
    }
    skip = 0;
    if (t + 1 >= T) continue;
    const int hmax = int(std::min<uint64_t>(uint64_t(H_), uint64_t(T - 1 - t)));
    const int ncu = first_with_h_[size_t(hmax)];  // candidates with t+h < T
    for (uint32_t r = 0; r < rows; ++r) {
      uint64_t* slot = step + r;
      uint64_t w = *slot;
      const uint64_t z = ~w & full_;
      if (z == 0) continue;
      uint64_t avail = 0;
      for (int c = 0; c < ncu; ++c) {
        const uint64_t x = slot[hoff[c]];
        const int s = rot_by[c];
        avail |= s == 0 ? x : ((x >> s) | (x << (L_ - s))) & full_;
      }
      const uint64_t todo = z & avail;  // lanes that may find a candidate (availability only shrinks)
      if (todo == 0) continue;
      // Visit the lanes of `todo` in the lane order: their bits permuted into visiting positions.
      uint64_t visit = 0;
      for (uint32_t b = 0; b < perm_bytes_; ++b) visit |= perm_[b * 256 + ((todo >> (8 * b)) & 0xff)];
      for (; visit; visit &= visit - 1) {
        const int i = order_[size_t(__builtin_ctzll(visit))];
        const int* lanes = &cand_lane_[size_t(i * nc)];
        for (int c = 0; c < ncu; ++c) {
          uint64_t& src = slot[hoff[c]];
          const uint64_t bit = uint64_t(1) << lanes[c];
          if (src & bit) {
            src &= ~bit;
            w |= uint64_t(1) << i;
            break;
          }
        }
      }
      *slot = w;
    }
  }
}

Walk empty_run(uint64_t z, uint32_t k, int H) {
  const uint64_t free_steps = std::min<uint64_t>(z, uint64_t(H) - k);
  const uint64_t rest = z - free_steps;
  if (rest == 0) return {0, uint8_t(k + z)};
  const uint64_t period = uint64_t(H) + 1;
  return {(rest + period - 1) / period, uint8_t((rest - 1) % period)};
}

SWATSIM_HW_POPCOUNT
BufferSummary summarize(const uint64_t* buf, uint32_t T, uint32_t rows, uint32_t real_rows, int H) {
  BufferSummary s;
  s.T = T;
  uint64_t run = 0;    // current run of empty steps after the first non-empty one
  uint32_t counter = 0;
  for (uint32_t t = 0; t < T; ++t) {
    const uint64_t* step = buf + uint64_t(t) * rows;
    uint64_t any = 0;
    uint32_t idle = 0;
    for (uint32_t r = 0; r < rows; ++r) {
      any |= step[r];
      s.nonzeros += uint64_t(__builtin_popcountll(step[r]));
      idle += (r < real_rows && step[r] == 0);
    }
    if (any == 0) {
      if (s.all_empty) ++s.lead; else ++run;
      continue;
    }
    s.row_idle += idle;
    if (!s.all_empty) {
      const Walk w = empty_run(run, counter, H);
      s.rest_cost += w.cycles;
    }
    s.all_empty = false;
    run = 0;
    counter = 0;
    s.rest_cost += 1;
  }
  if (!s.all_empty) {
    const Walk w = empty_run(run, counter, H);
    s.rest_cost += w.cycles;
    s.rest_out = w.out;
  }
  return s;
}

Walk walk(const BufferSummary& s, uint32_t k, int H) {
  if (s.all_empty) return empty_run(s.T, k, H);
  const Walk lead = empty_run(s.lead, k, H);
  return {lead.cycles + s.rest_cost, s.rest_out};
}

Segment to_segment(const BufferSummary& s, int H) {
  Segment seg;
  seg.cost.resize(size_t(H) + 1);
  seg.out.resize(size_t(H) + 1);
  for (int k = 0; k <= H; ++k) {
    const Walk w = walk(s, uint32_t(k), H);
    seg.cost[size_t(k)] = w.cycles;
    seg.out[size_t(k)] = w.out;
  }
  return seg;
}

}  // namespace swatsim::arch::tensordash
