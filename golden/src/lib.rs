//! ITX golden model.
