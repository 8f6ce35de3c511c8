//! The storage conformance suite: what every Roam storage engine must guarantee, as one set of
//! tests that each engine runs against itself.
//!
//! An engine implements [`Engine`] (how to make an empty place for a store and open a store
//! there) and runs the whole suite from a test target with `harness = false`:
//!
//! ```ignore
//! fn main() -> std::process::ExitCode {
//!     roam_conformance::run(MyEngine)
//! }
//! ```
//!
//! Each test is a named trial (`users::…`, `delivery::…`, `groups::…`, `list::…`, `history::…`,
//! `deletes::…`, `events::…`, `ids::…`, `model::…`), filtered like ordinary tests:
//! `cargo test -p roam-storage-sqlite --test conformance -- history`.
//!
//! # Layout
//! - [`engine`]: the [`Engine`] trait and the fresh store each test gets.
//! - [`harness`]: the list of trials and [`run`].
//! - [`prelude`]: the one place that names the domain's store traits and types (port here
//!   when they move), also for an engine's own tests.
//! - [`fixtures`]: the small builders the tests share (users, messages, groups), public for
//!   an engine's own tests.
//! - one module per concern: `users`, `delivery`, `groups`, `list`, `history`, `deletes`,
//!   `events` (a write and the events it causes commit together), `ids`, and `model` (the
//!   model-based roaming test over the real use-cases).

// A test suite: an unwrap or a lossy cast that fails is a failed test, which is the point.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

pub mod engine;
pub mod fixtures;
pub mod harness;
pub mod prelude;

mod deletes;
mod delivery;
mod events;
mod groups;
mod history;
mod ids;
mod list;
mod model;
mod users;

pub use engine::{Engine, Fresh};
pub use harness::{async_trial, run, run_with, trials};
/// A named test, for an engine's own extra tests given to [`run_with`].
pub use libtest_mimic::Trial;
