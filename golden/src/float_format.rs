//! Small floating-point formats as the L-Mul and exact-multiplier blocks see them (spec: `lmul.md`,
//! "Formats").
//!
//! A format is `(E, M, bias, has_inf)`: one sign bit, an `E`-bit exponent field, an `M`-bit mantissa
//! field, bit pattern `S.EEEE.MMM` in the low `1 + E + M` bits of a `u32`. Spec: "Internally the
//! generator takes `(E, M, bias, has_inf)` generically; these three are the named presets (and the only
//! ones the command line and vector files name)":
//!
//! | name | E | M | bias | Inf | NaN | max finite (E+M field) |
//! |---|---|---|---|---|---|---|
//! | e4m3 (OCP E4M3FN) | 4 | 3 | 7 | none | S.1111.111 only | 0x7E (448) |
//! | e5m2 | 5 | 2 | 15 | exp all ones, mantissa 0 | exp all ones, mantissa != 0 | 0x7B (57344) |
//! | bf16 | 8 | 7 | 127 | exp 0xFF, mantissa 0 | exp 0xFF, mantissa != 0 | 0x7F7F |
//!
//! Generic rule used here for any `(E, M, bias, has_inf)`: with `has_inf` the all-ones exponent is
//! reserved (mantissa 0 = Inf, else NaN, canonical NaN = quiet bit `1 << (M-1)`); without it only the
//! all-ones pattern `S.1..1.1..1` is NaN (canonical NaN = the all-ones E+M field) and every other
//! pattern is finite. Exponent field 0 is zero or subnormal; the arithmetic treats it as zero
//! ("denormals are zero", rule 4), [`Format::to_f64`] decodes its real value for reports.
//!
//! The result rules shared by [`crate::lmul`] and [`crate::fmul`] (rules 1-4, and rule 7's choice
//! between saturation and Inf) live here: [`special_product`], [`Format::overflow_result`].

use std::fmt;
use std::str::FromStr;

/// A sign / exponent / mantissa format of `1 + e + m` bits (see the module documentation).
///
/// The fields are public so the hardware generator can share this one definition; build custom formats
/// with [`Format::new`] (or check them with [`Format::validate`]), which enforces the ranges the golden
/// model supports. The functions of [`crate::lmul`] and [`crate::fmul`] assume a valid format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Format {
    /// Exponent field width `E`, `2..=8`.
    pub e: u32,
    /// Mantissa field width `M` (without the hidden bit), `1..=23`.
    pub m: u32,
    /// Exponent bias, `1..=2^E - 2`: a normal value is `(-1)^s * 1.mant * 2^(exp - bias)`.
    pub bias: i32,
    /// Whether the all-ones exponent is reserved for Inf/NaN (IEEE style) rather than only the
    /// all-ones pattern being NaN (E4M3FN style).
    pub has_inf: bool,
}

/// Smallest and largest exponent widths [`Format::new`] accepts. `E <= 8` keeps every value and every
/// product of two values (subnormals included) exactly representable in `f64`.
pub const E_RANGE: std::ops::RangeInclusive<u32> = 2..=8;
/// Smallest and largest mantissa widths [`Format::new`] accepts. `M <= 23` keeps the pattern within
/// 32 bits and the product of two significands (`2M + 2 <= 48` bits) exact in `f64`.
pub const M_RANGE: std::ops::RangeInclusive<u32> = 1..=23;

/// A format name that is not a preset, or a custom format with a field out of range.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// `Format::from_name` got something other than `e4m3`, `e5m2`, `bf16`.
    #[error("invalid format {value:?} (allowed: e4m3, e5m2, bf16)")]
    UnknownName {
        /// The rejected name, as given.
        value: String,
    },
    /// A field of a custom format is out of range.
    #[error("format field {name} = {value} out of range {range}")]
    Field {
        /// `"e"`, `"m"`, `"bias"` or `"1 + e + m"`.
        name: &'static str,
        /// The rejected value.
        value: i64,
        /// The allowed range, e.g. `"2..=8"`.
        range: String,
    },
}

/// Which rule of `lmul.md` ("Rules, in priority order") produced a result.
///
/// Lets reports say which set a figure covers (spec: "always say which set a figure covers": finite,
/// neither saturated nor flushed is [`Rule::Normal`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// Rule 2 (a NaN input) or rule 3 (Inf x zero): the canonical NaN.
    Nan,
    /// Rule 3: Inf x nonzero, Inf with the product sign.
    Inf,
    /// Rule 4: an operand has exponent field 0 (zero or subnormal, "denormals are zero").
    Zero,
    /// Rule 6: the biased result exponent is `<= 0`, flushed to signed zero.
    Underflow,
    /// Rule 7: above the largest finite value, saturated (or Inf in [`Overflow::Ieee`] mode).
    Overflow,
    /// Rule 8: a finite normal result.
    Normal,
}

impl Format {
    /// OCP E4M3FN: E=4, M=3, bias 7, no Inf, NaN only at `S.1111.111`.
    pub const E4M3: Format = Format {
        e: 4,
        m: 3,
        bias: 7,
        has_inf: false,
    };
    /// E5M2: E=5, M=2, bias 15, IEEE-style Inf and NaN.
    pub const E5M2: Format = Format {
        e: 5,
        m: 2,
        bias: 15,
        has_inf: true,
    };
    /// bfloat16: E=8, M=7, bias 127, IEEE-style Inf and NaN.
    pub const BF16: Format = Format {
        e: 8,
        m: 7,
        bias: 127,
        has_inf: true,
    };
    /// The named presets, in the order error messages list them.
    pub const PRESETS: [Format; 3] = [Format::E4M3, Format::E5M2, Format::BF16];

    /// A custom format, checked: `e` in `2..=8`, `m` in `1..=23`, `bias` in `1..=2^e - 2`.
    ///
    /// Errors name the field and its allowed range.
    pub fn new(e: u32, m: u32, bias: i32, has_inf: bool) -> Result<Format, FormatError> {
        let f = Format {
            e,
            m,
            bias,
            has_inf,
        };
        f.validate()?;
        Ok(f)
    }

    /// Checks the ranges of [`Format::new`] on an already built value.
    pub fn validate(&self) -> Result<(), FormatError> {
        if !E_RANGE.contains(&self.e) {
            return Err(FormatError::Field {
                name: "e",
                value: self.e as i64,
                range: "2..=8".into(),
            });
        }
        if !M_RANGE.contains(&self.m) {
            return Err(FormatError::Field {
                name: "m",
                value: self.m as i64,
                range: "1..=23".into(),
            });
        }
        let bias_max = (1i64 << self.e) - 2;
        if !(1..=bias_max).contains(&(self.bias as i64)) {
            return Err(FormatError::Field {
                name: "bias",
                value: self.bias as i64,
                range: format!("1..={bias_max}"),
            });
        }
        Ok(())
    }

    /// The preset with this name: `"e4m3"`, `"e5m2"` or `"bf16"` (exact, case-sensitive, as in the
    /// vector files and on the command line).
    pub fn from_name(name: &str) -> Result<Format, FormatError> {
        Format::PRESETS
            .into_iter()
            .find(|f| f.preset_name() == Some(name))
            .ok_or_else(|| FormatError::UnknownName {
                value: name.to_string(),
            })
    }

    /// The preset name (`"e4m3"`, `"e5m2"`, `"bf16"`), or `None` for a custom format.
    pub fn preset_name(&self) -> Option<&'static str> {
        match *self {
            Format::E4M3 => Some("e4m3"),
            Format::E5M2 => Some("e5m2"),
            Format::BF16 => Some("bf16"),
            _ => None,
        }
    }

    /// The preset name, or for a custom format `e{E}m{M}b{bias}` with suffix `fn` when it has no Inf
    /// (e.g. `e3m4b3fn`).
    pub fn name(&self) -> String {
        match self.preset_name() {
            Some(n) => n.to_string(),
            None => format!(
                "e{}m{}b{}{}",
                self.e,
                self.m,
                self.bias,
                if self.has_inf { "" } else { "fn" }
            ),
        }
    }

    /// Total width `1 + E + M`: 8 for e4m3 and e5m2, 16 for bf16.
    pub fn bits(&self) -> u32 {
        1 + self.e + self.m
    }

    /// The sign bit, `1 << (E + M)`.
    pub fn sign_mask(&self) -> u32 {
        1 << (self.e + self.m)
    }

    /// The E+M field mask, `(1 << (E + M)) - 1`.
    pub fn em_mask(&self) -> u32 {
        self.sign_mask() - 1
    }

    /// The mantissa field mask, `(1 << M) - 1`.
    pub fn man_mask(&self) -> u32 {
        (1 << self.m) - 1
    }

    /// The all-ones exponent field value, `(1 << E) - 1`.
    pub fn exp_all_ones(&self) -> u32 {
        (1 << self.e) - 1
    }

    /// Whether `bits` fits in `1 + E + M` bits.
    pub fn fits(&self, bits: u32) -> bool {
        bits >> self.bits() == 0
    }

    /// The sign bit of `bits`, 0 or 1.
    pub fn sign(&self, bits: u32) -> u32 {
        (bits >> (self.e + self.m)) & 1
    }

    /// The E+M field `EM(v)` of the spec: the pattern without the sign.
    pub fn em(&self, bits: u32) -> u32 {
        bits & self.em_mask()
    }

    /// The exponent field.
    pub fn exp_field(&self, bits: u32) -> u32 {
        (bits >> self.m) & self.exp_all_ones()
    }

    /// The mantissa field.
    pub fn man_field(&self, bits: u32) -> u32 {
        bits & self.man_mask()
    }

    /// Largest finite E+M field: `0x7E` (e4m3, since `0x7F` is NaN), `0x7B` (e5m2), `0x7F7F` (bf16).
    ///
    /// With Inf: exponent `2^E - 2`, mantissa all ones; without: all ones minus one.
    pub fn max_finite(&self) -> u32 {
        if self.has_inf {
            ((self.exp_all_ones() - 1) << self.m) | self.man_mask()
        } else {
            self.em_mask() - 1
        }
    }

    /// Canonical NaN (sign 0): e4m3 `0x7F`, e5m2 `0x7E`, bf16 `0x7FC0`.
    ///
    /// With Inf: all-ones exponent and the top mantissa bit (the quiet bit); without: all ones.
    pub fn canonical_nan(&self) -> u32 {
        if self.has_inf {
            (self.exp_all_ones() << self.m) | (1 << (self.m - 1))
        } else {
            self.em_mask()
        }
    }

    /// Positive infinity (all-ones exponent, mantissa 0), `None` for formats without Inf.
    pub fn inf(&self) -> Option<u32> {
        self.has_inf.then(|| self.exp_all_ones() << self.m)
    }

    /// Whether `bits` is a NaN (either sign): all-ones exponent and mantissa != 0 with Inf; the
    /// all-ones E+M field without.
    pub fn is_nan(&self, bits: u32) -> bool {
        if self.has_inf {
            self.exp_field(bits) == self.exp_all_ones() && self.man_field(bits) != 0
        } else {
            self.em(bits) == self.em_mask()
        }
    }

    /// Whether `bits` is an infinity (either sign); always false for formats without Inf.
    pub fn is_inf(&self, bits: u32) -> bool {
        self.has_inf && self.exp_field(bits) == self.exp_all_ones() && self.man_field(bits) == 0
    }

    /// Whether the exponent field is 0: zero or subnormal, both treated as zero by the arithmetic
    /// (rule 4, "denormals are zero").
    pub fn is_zero_or_subnormal(&self, bits: u32) -> bool {
        self.exp_field(bits) == 0
    }

    /// The result of rule 7 for sign bit `s` (0 or 1): `s | MAXFIN` when saturating, `s | Inf` in
    /// [`Overflow::Ieee`] mode for formats with Inf ("for e4m3, which has none, `ieee` behaves as
    /// `saturate`").
    pub fn overflow_result(&self, overflow: Overflow, s: u32) -> u32 {
        let sign = s << (self.e + self.m);
        match (overflow, self.inf()) {
            (Overflow::Ieee, Some(inf)) => sign | inf,
            _ => sign | self.max_finite(),
        }
    }

    /// The exact value of `bits` for error reports: NaN, +-Inf, +-0, subnormals at their real value
    /// `mant * 2^(1 - bias - M)` (even though the arithmetic treats them as zero), normals
    /// `(2^M + mant) * 2^(exp - bias - M)`. Exact for every valid format.
    pub fn to_f64(&self, bits: u32) -> f64 {
        if self.is_nan(bits) {
            return f64::NAN;
        }
        let neg = self.sign(bits) == 1;
        let mag = if self.is_inf(bits) {
            f64::INFINITY
        } else {
            let exp = self.exp_field(bits) as i32;
            let man = self.man_field(bits) as f64;
            let m = self.m as i32;
            if exp == 0 {
                man * pow2(1 - self.bias - m)
            } else {
                (man + pow2(m)) * pow2(exp - self.bias - m)
            }
        };
        if neg {
            -mag
        } else {
            mag
        }
    }

    /// The integer `v` in this format: round to nearest, ties to an even significand, and
    /// saturation to the largest finite value (`MAXFIN`) above it; 0 is `+0`. Integers are never
    /// subnormal for the formats here (`bias >= M`), so every nonzero result is a normal number.
    /// This is how an int8 activation becomes an fp8 operand (an integer-to-float converter: a
    /// leading-one detector, a shift and a round, with no scale: the int8 scale carries over).
    ///
    /// # Panics
    /// If the format's bias is below `M` (an integer could then land among the subnormals).
    pub fn from_int(&self, v: i64) -> u32 {
        assert!(
            self.bias >= self.m as i32,
            "from_int: format {self} has bias {} < M = {}",
            self.bias,
            self.m
        );
        if v == 0 {
            return 0;
        }
        let sign = u32::from(v < 0) << (self.e + self.m);
        let a = v.unsigned_abs();
        let mut p = 63 - a.leading_zeros(); // floor(log2 a)
        let m = self.m;
        let mut q = if p <= m {
            a << (m - p)
        } else {
            let shift = p - m;
            let q = a >> shift;
            let rem = a & ((1u64 << shift) - 1);
            let half = 1u64 << (shift - 1);
            q + u64::from(rem > half || (rem == half && q & 1 == 1))
        };
        if q == 1u64 << (m + 1) {
            q >>= 1;
            p += 1;
        }
        let exp = u64::from(p) + self.bias as u64;
        let em = (exp << m) | (q & u64::from(self.man_mask()));
        let em = if em > u64::from(self.max_finite()) {
            self.max_finite()
        } else {
            em as u32
        };
        sign | em
    }

    /// `l(M)` of the paper, the default L-Mul offset parameter for this format (see [`default_l`]).
    pub fn default_l(&self) -> u32 {
        default_l(self.m)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// `2^n` exactly, for `n` in the normal `f64` range `-1022..=1023` (built from the bits).
///
/// # Panics
/// If `n` is outside `-1022..=1023`.
pub fn pow2(n: i32) -> f64 {
    assert!(
        (-1022..=1023).contains(&n),
        "pow2: n = {n} out of -1022..=1023"
    );
    f64::from_bits(((n + 1023) as u64) << 52)
}

/// Spec: "`l(M) = M` for `M <= 3`, `3` for `M = 4`, `4` for `M > 4`": 3 for e4m3, 2 for e5m2, 4 for
/// bf16.
pub fn default_l(m: u32) -> u32 {
    match m {
        0..=3 => m,
        4 => 3,
        _ => 4,
    }
}

/// Overflow mode of rule 7: "`saturate` (default) and `ieee` (Inf on overflow for formats with Inf;
/// for e4m3, which has none, `ieee` behaves as `saturate`)".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Overflow {
    /// Saturate to `s | MAXFIN` (the default).
    #[default]
    Saturate,
    /// Inf with the product sign, for formats that have Inf; saturate otherwise.
    Ieee,
}

impl Overflow {
    /// Every mode, in the order the error messages list them.
    pub const ALL: [Overflow; 2] = [Overflow::Saturate, Overflow::Ieee];

    /// The name used in vector files and on the command line: `"saturate"` or `"ieee"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Overflow::Saturate => "saturate",
            Overflow::Ieee => "ieee",
        }
    }
}

impl fmt::Display for Overflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An overflow-mode name that is neither `saturate` nor `ieee`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid overflow {value:?} (allowed: saturate, ieee)")]
pub struct ParseOverflowError {
    /// The rejected name, as given.
    pub value: String,
}

impl FromStr for Overflow {
    type Err = ParseOverflowError;

    /// Parses `"saturate"` or `"ieee"` (exact, case-sensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Overflow::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| ParseOverflowError {
                value: s.to_string(),
            })
    }
}

/// Rules 1-4 of `lmul.md`, shared by L-Mul and the exact multiplier; `None` when both operands are
/// finite and normal (the core rules 5-8 decide).
///
/// 1. "Sign `s = sign(a) XOR sign(b)` for every result except NaN (zero and flushed results included)."
/// 2. "Any NaN input: canonical NaN, always with sign 0."
/// 3. "Inf (formats that have it): Inf x zero = canonical NaN; Inf x anything else = Inf with sign
///    `s`." Zero here includes subnormals, which rule 4 makes zero (so Inf x subnormal is NaN, as in the
///    shared vectors).
/// 4. "Exponent field 0 (zero or subnormal) is zero ("denormals are zero"): result is signed zero `s`."
pub fn special_product(fmt: Format, a: u32, b: u32) -> Option<(u32, Rule)> {
    let s = (fmt.sign(a) ^ fmt.sign(b)) << (fmt.e + fmt.m);
    if fmt.is_nan(a) || fmt.is_nan(b) {
        return Some((fmt.canonical_nan(), Rule::Nan));
    }
    if fmt.is_inf(a) || fmt.is_inf(b) {
        if fmt.is_zero_or_subnormal(a) || fmt.is_zero_or_subnormal(b) {
            return Some((fmt.canonical_nan(), Rule::Nan));
        }
        // is_inf implies the format has Inf.
        return Some((s | (fmt.exp_all_ones() << fmt.m), Rule::Inf));
    }
    if fmt.is_zero_or_subnormal(a) || fmt.is_zero_or_subnormal(b) {
        return Some((s, Rule::Zero));
    }
    None
}

/// An operand that does not fit the format's `1 + E + M` bits.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{name} = {value:#x} does not fit the {bits} bits of {format}")]
pub struct OperandError {
    /// The operand: `"a"`, `"b"`, or `"a[3]"` for a dot-product lane.
    pub name: String,
    /// Its value.
    pub value: u32,
    /// The format's width, `1 + E + M`.
    pub bits: u32,
    /// The format's name.
    pub format: String,
}

/// `Ok` when `value` fits `fmt`, else an [`OperandError`] naming the operand.
pub fn check_operand(fmt: Format, name: &str, value: u32) -> Result<(), OperandError> {
    if fmt.fits(value) {
        Ok(())
    } else {
        Err(OperandError {
            name: name.to_string(),
            value,
            bits: fmt.bits(),
            format: fmt.name(),
        })
    }
}
