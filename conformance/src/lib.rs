//! Conformance suite (issue #4): not built yet.
