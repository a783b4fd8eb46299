//! Time per operation for Clew and its peers, side by side.
//! Allocation counts: see `allocs.rs` (same cases, counting allocator).

mod cases;

fn main() {
    cases::setup();
    divan::main();
    cases::finish();
}
