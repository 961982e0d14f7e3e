#pragma once
// TensorDash timing kernel (REFERENCE.md §2; Mahmoud et al., "TensorDash: Exploiting Sparsity to
// Accelerate Deep Neural Network Training", MICRO 2020). Plain functions, no SystemC: the static
// scheduler that promotes non-zeros into empty slots of a scheduled buffer, and the cycle walk
// over a scheduled buffer given the skip counter carried into it.
//
// A buffer is T steps x `rows` lane groups; buf[t*rows + r] holds the L lane bits (bit i = lane i)
// of stream r at step t.
#include <cstdint>
#include <vector>

#include "swatsim/arch/pe_model.hpp"

namespace swatsim::arch::tensordash {

enum class Shape : uint8_t { T, L };

/// Candidate (h, d): step t+h, lane (i+d) mod L of the same lane group.
struct Offset {
  int h, d;
  bool operator==(const Offset& o) const { return h == o.h && d == o.d; }
};

/// Search order for an empty slot, sorted by (h, d) (REFERENCE §2, T-shape and L-shape).
std::vector<Offset> candidates(int lookahead, int lookaside, Shape shape);
/// The non-overlapping lane visiting order (REFERENCE §2); lookaside 0 gives 0..L-1.
std::vector<int> lane_order(int lanes, int lookaside);

class Scheduler {
public:
  Scheduler(int lanes, int lookahead, int lookaside, Shape shape, int rows);
  /// Promotes non-zeros in place, steps in order, with the scheduler's own skip counter
  /// starting at 0. Uses the packed path when rows x lanes fit one word, else the lane-by-lane one.
  void schedule(uint64_t* buf, uint32_t T) const;
  /// The lane-by-lane path, for any rows and lanes (schedule() takes it when the packed one cannot).
  void schedule_by_lane(uint64_t* buf, uint32_t T) const;
  /// True when schedule() takes the packed path.
  bool packed() const { return packed_; }
  int lanes() const { return L_; }
  int lookahead() const { return H_; }
  int rows() const { return rows_; }
  const std::vector<Offset>& offsets() const { return cands_; }
  const std::vector<int>& order() const { return order_; }

private:
  int L_, H_, rows_;
  uint64_t full_;
  std::vector<Offset> cands_;
  std::vector<int> order_;
  std::vector<int> cand_lane_;    // [i * ncand + c] = (i + d_c) mod L
  std::vector<int> first_with_h_; // index of the first candidate with h > x, for x = 0..H
  std::vector<uint64_t> perm_;    // lane bits -> visiting-order bits, one 256-entry table per byte
  uint32_t perm_bytes_ = 0;

  // Packed path: a step's rows side by side in one word (row r in bits [r*L, (r+1)*L)), every row
  // scheduled at once. The lane order is cut into rounds of consecutive lanes whose candidate
  // sources (step offset, lane) are pairwise disjoint: within a round no lane can take what
  // another wanted, so the round's lanes try each candidate together and the result is the
  // lane-by-lane one.
  struct PackedCandidate {
    uint32_t h;           // step offset
    uint32_t s;           // rotation: source lane = (lane + s) mod L
    uint64_t to_lo, to_hi;      // masks of the two halves of the rotation source -> lane
    uint64_t back_lo, back_hi;  // and of its inverse, lane -> source
  };
  bool packed_ = false;
  uint64_t packed_full_ = 0;              // every lane of every row
  std::vector<PackedCandidate> pcands_;   // in candidate order
  std::vector<uint64_t> round_lanes_;     // per round: its lanes, in every row
  void init_packed();
  void schedule_packed(uint64_t* buf, uint32_t T) const;
};

/// What the cycle walk needs to know about a scheduled buffer.
struct BufferSummary {
  uint32_t T = 0;
  uint32_t lead = 0;        ///< leading all-zero steps
  bool all_empty = true;
  uint64_t rest_cost = 0;   ///< cycles from the first non-empty step on (counter reset there)
  uint8_t rest_out = 0;     ///< counter after the last step (if not all empty)
  uint64_t nonzeros = 0;    ///< non-zero values in the buffer
  uint64_t row_idle = 0;    ///< over non-empty steps: lane groups (of real rows) with no value
};
BufferSummary summarize(const uint64_t* buf, uint32_t T, uint32_t rows, uint32_t real_rows,
                        int lookahead);

struct Walk {
  uint64_t cycles;
  uint8_t out;
};
/// Cost of `z` consecutive all-zero steps entered with skip counter k (closed form).
Walk empty_run(uint64_t z, uint32_t k, int lookahead);
/// Cycles of one pair on a summarized buffer, entering with counter k.
Walk walk(const BufferSummary& s, uint32_t k, int lookahead);
/// The buffer as a Segment over the H+1 counter states.
Segment to_segment(const BufferSummary& s, int lookahead);

}  // namespace swatsim::arch::tensordash
