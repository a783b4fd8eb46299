//! The cases of `compare.rs` under divan's counting allocator, to show
//! allocations per operation (times here include the counting overhead).

mod cases;

#[global_allocator]
static ALLOC: divan::AllocProfiler = divan::AllocProfiler::system();

fn main() {
    cases::setup();
    divan::main();
    cases::finish();
}
