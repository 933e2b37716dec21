//! Load generator (issue #5): not built yet.
