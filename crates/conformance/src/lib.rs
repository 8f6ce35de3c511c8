//! The storage conformance suite: every engine runs these tests.
