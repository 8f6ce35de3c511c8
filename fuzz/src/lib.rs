//! The fuzz targets' harnesses (docs/fuzzing.md). Each target in `fuzz_targets/` calls one
//! `run(&[u8])` here, so a crashing input can be replayed by a plain test as well.
//!
//! - [`msync_frame`]: every protobuf the server decodes from a client (the frame, the SYNC,
//!   metas, message and MUC bodies), the SockJS text framing, and the client meta → domain
//!   message mapping.
//! - [`session`]: the msync session (PROVISION login, then requests) over a real store.
//! - [`rest`]: the whole router (REST and msync endpoints) with arbitrary method, path, query,
//!   headers and body.
//! - [`message_json`]: REST message JSON → wire body → JSON, and wire bytes → JSON.
pub mod fixture;
pub mod message_json;
pub mod msync_frame;
pub mod rest;
pub mod session;
