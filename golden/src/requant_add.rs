//! The requantized residual add (spec: `integer-ops.md`, "Dyadic requantization", the residual
//! add): `out = clamp(round(x*m/2^c) + round(z*m1/2^c1))`, each branch rounded separately, one
//! clamp. The functions live beside the requantizer they extend ([`crate::requant`]); this module
//! names them after the `requant-add` hardware block.
pub use crate::requant::{requant_add, requant_add_rows};
