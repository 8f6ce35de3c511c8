//! The Easemob wire protocol as Roam speaks it, with no I/O.
//!
//! - [`pb`]: the msync protobuf schema (`proto/easemob.proto`, the schema embedded in the official
//!   Web SDK 4.21.1), compiled by prost at build time.
//! - [`msync`]: whole frames: decoding what a client sends into a [`msync::ClientFrame`], and
//!   building every frame the server sends.
//! - [`jid`]: the JIDs that name users, groups and queues on the wire.
//! - [`rest`]: the JSON bodies of Easemob's REST API.
//!
//! Both the server's transports and the Rust SDK build on this crate; it knows nothing of either.

pub mod jid;
pub mod message_json;
pub mod msync;
pub mod rest;

/// Generated protobuf types of `package easemob.pb`.
///
/// proto2 semantics: every singular field is an `Option`, enum fields are `i32` (the SDK knows
/// values the schema does not, e.g. status 20), repeated scalars accept packed and unpacked input.
#[allow(clippy::all, missing_docs)]
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/easemob.pb.rs"));
}
