//! `LMul` against `golden::lmul`: exhaustive over all 65,536 operand pairs for e4m3 and e5m2 in
//! Verilator and RustHDL's simulator, bf16 on 1e6 seeded pairs plus every pair of special classes,
//! across the generator parameters; ASIC-clean reset, lint and synthesis.
mod common;

use common::float;

#[test]
fn e4m3_exhaustive_verilator_and_rusthdl() {
    float::fp8_exhaustive("lmul", "e4m3", 1);
}

#[test]
fn e5m2_exhaustive_verilator_and_rusthdl() {
    float::fp8_exhaustive("lmul", "e5m2", 3);
}

/// IEEE overflow (Inf), offset 0 (l = M + 1), the smallest and largest l, combinational.
#[test]
fn parameter_variants_exhaustive_in_verilator() {
    float::variants_exhaustive(
        "lmul",
        &[
            &["format=e5m2", "overflow=ieee"],
            &["format=e4m3", "l=4"],
            &["format=e5m2", "l=1"],
            &["format=e4m3", "l=16", "overflow=ieee"],
            &["format=e4m3", "registered=false"],
        ],
    );
}

#[test]
fn bare_adder_matches_golden_on_finite_operands() {
    float::bare_matches_golden_on_finite_operands("lmul");
}

#[test]
fn bf16_specials_and_a_million_random_pairs() {
    float::bf16("lmul");
}

#[test]
fn latency_registered_and_combinational() {
    float::latency("lmul");
}

#[test]
fn shared_vectors_through_hardware() {
    float::shared_vectors_through_hardware("lmul");
}

#[test]
fn asic_clean_without_initial_blocks() {
    float::asic_clean("lmul");
}

/// An adder and masks: no multiplier may be inferred.
#[test]
fn lint_clean_and_synthesizes_without_dsp() {
    float::lint_and_synth("lmul", 0);
}
