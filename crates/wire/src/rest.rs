//! Domain values as Easemob REST JSON.
