//! Bench-only package; see `benches/compare.rs`.
