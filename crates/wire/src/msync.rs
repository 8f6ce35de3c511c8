//! Domain values as msync metas and JIDs.
