//! `FMul` against `golden::fmul`: exhaustive over all 65,536 operand pairs for e4m3 and e5m2 in
//! Verilator and RustHDL's simulator, bf16 on 1e6 seeded pairs plus every pair of special classes,
//! across the generator parameters; ASIC-clean reset, lint and synthesis.
mod common;

use common::float;

#[test]
fn e4m3_exhaustive_verilator_and_rusthdl() {
    float::fp8_exhaustive("fmul", "e4m3", 1);
}

#[test]
fn e5m2_exhaustive_verilator_and_rusthdl() {
    float::fp8_exhaustive("fmul", "e5m2", 3);
}

/// IEEE overflow (Inf) for both fp8 formats, combinational.
#[test]
fn parameter_variants_exhaustive_in_verilator() {
    float::variants_exhaustive(
        "fmul",
        &[
            &["format=e5m2", "overflow=ieee"],
            &["format=e4m3", "overflow=ieee"],
            &["format=e5m2", "registered=false"],
        ],
    );
}

#[test]
fn bare_multiplier_matches_golden_on_finite_operands() {
    float::bare_matches_golden_on_finite_operands("fmul");
}

#[test]
fn bf16_specials_and_a_million_random_pairs() {
    float::bf16("fmul");
}

#[test]
fn latency_registered_and_combinational() {
    float::latency("fmul");
}

#[test]
fn shared_vectors_through_hardware() {
    float::shared_vectors_through_hardware("fmul");
}

#[test]
fn asic_clean_without_initial_blocks() {
    float::asic_clean("fmul");
}

/// The significand product is one multiply: at most one DSP block.
#[test]
fn lint_clean_and_synthesizes() {
    float::lint_and_synth("fmul", 1);
}
