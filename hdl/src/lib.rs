//! ITX hardware blocks.
