//! Roles compose the library crates into a running process. Only
//! all-in-one exists today; collector-only and query-only roles will sit
//! beside it and reuse [`listeners`].

pub mod all_in_one;
pub mod listeners;
