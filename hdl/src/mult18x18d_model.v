// Behavioural model of the Lattice ECP5 sysDSP multiplier MULT18X18D, in the subset ITX
// instantiates (hdl/src/mult18x18d.rs), for Verilator and Icarus: Yosys ships only a black box of
// it (ecp5/cells_bb.v). Written for this project from Lattice's ECP5 sysDSP usage guide
// (FPGA-TN-02205 / TN1267); ports and parameter defaults as in Yosys's cells_bb.v.
//
// What it models:
// - P[35:0] = A[17:0] x B[17:0], each operand two's complement when its SIGNEDA / SIGNEDB is 1,
//   unsigned when 0; SIGNEDP = SIGNEDA | SIGNEDB (travels with the product).
// - Three optional register stages, each on CLK0 when its REG_*_CLK is "CLK0" and bypassed when it
//   is "NONE": the input registers (A with SIGNEDA, B with SIGNEDB), the pipeline register (the
//   product), the output register (P, SIGNEDP). Each stage's clock enable and reset are the ports
//   its REG_*_CE ("CE0".."CE3") and REG_*_RST ("RST0".."RST3") name.
// - RESETMODE "SYNC": a register whose reset is high at a rising edge of CLK0 clears, whatever its
//   clock enable; otherwise it loads when its clock enable is high and holds when it is low.
// - ROA / ROB: A and B after the input registers; SROA / SROB likewise (the shift chain out);
//   ROC: C (REG_INPUTC_CLK must be "NONE").
// What it does not model, and refuses at elaboration (an instance of a module that does not exist,
// named after the setting): clocks other than CLK0, RESETMODE "ASYNC", REG_INPUTC_CLK, the A/B
// shift chains (SOURCEA/SOURCEB are ignored: tie them to 0), MULT_BYPASS "ENABLED", HIGHSPEED_CLK,
// CAS_MATCH_REG. GSR is not modelled (there is no global reset in simulation): the registers are x
// until cleared or loaded, as the project's designs never rely on a power-up value.
module MULT18X18D (
  input A0, input A1, input A2, input A3, input A4, input A5, input A6, input A7, input A8,
  input A9, input A10, input A11, input A12, input A13, input A14, input A15, input A16, input A17,
  input B0, input B1, input B2, input B3, input B4, input B5, input B6, input B7, input B8,
  input B9, input B10, input B11, input B12, input B13, input B14, input B15, input B16, input B17,
  input C0, input C1, input C2, input C3, input C4, input C5, input C6, input C7, input C8,
  input C9, input C10, input C11, input C12, input C13, input C14, input C15, input C16, input C17,
  input SIGNEDA,
  input SIGNEDB,
  input SOURCEA,
  input SOURCEB,
  input CLK0, input CLK1, input CLK2, input CLK3,
  input CE0, input CE1, input CE2, input CE3,
  input RST0, input RST1, input RST2, input RST3,
  input SRIA0, input SRIA1, input SRIA2, input SRIA3, input SRIA4, input SRIA5, input SRIA6, input SRIA7, input SRIA8,
  input SRIA9, input SRIA10, input SRIA11, input SRIA12, input SRIA13, input SRIA14, input SRIA15, input SRIA16, input SRIA17,
  input SRIB0, input SRIB1, input SRIB2, input SRIB3, input SRIB4, input SRIB5, input SRIB6, input SRIB7, input SRIB8,
  input SRIB9, input SRIB10, input SRIB11, input SRIB12, input SRIB13, input SRIB14, input SRIB15, input SRIB16, input SRIB17,
  output SROA0, output SROA1, output SROA2, output SROA3, output SROA4, output SROA5, output SROA6, output SROA7, output SROA8,
  output SROA9, output SROA10, output SROA11, output SROA12, output SROA13, output SROA14, output SROA15, output SROA16, output SROA17,
  output SROB0, output SROB1, output SROB2, output SROB3, output SROB4, output SROB5, output SROB6, output SROB7, output SROB8,
  output SROB9, output SROB10, output SROB11, output SROB12, output SROB13, output SROB14, output SROB15, output SROB16, output SROB17,
  output ROA0, output ROA1, output ROA2, output ROA3, output ROA4, output ROA5, output ROA6, output ROA7, output ROA8,
  output ROA9, output ROA10, output ROA11, output ROA12, output ROA13, output ROA14, output ROA15, output ROA16, output ROA17,
  output ROB0, output ROB1, output ROB2, output ROB3, output ROB4, output ROB5, output ROB6, output ROB7, output ROB8,
  output ROB9, output ROB10, output ROB11, output ROB12, output ROB13, output ROB14, output ROB15, output ROB16, output ROB17,
  output ROC0, output ROC1, output ROC2, output ROC3, output ROC4, output ROC5, output ROC6, output ROC7, output ROC8,
  output ROC9, output ROC10, output ROC11, output ROC12, output ROC13, output ROC14, output ROC15, output ROC16, output ROC17,
  output P0, output P1, output P2, output P3, output P4, output P5, output P6, output P7, output P8,
  output P9, output P10, output P11, output P12, output P13, output P14, output P15, output P16, output P17,
  output P18, output P19, output P20, output P21, output P22, output P23, output P24, output P25, output P26,
  output P27, output P28, output P29, output P30, output P31, output P32, output P33, output P34, output P35,
  output SIGNEDP
);
  parameter REG_INPUTA_CLK = "NONE";
  parameter REG_INPUTA_CE = "CE0";
  parameter REG_INPUTA_RST = "RST0";
  parameter REG_INPUTB_CLK = "NONE";
  parameter REG_INPUTB_CE = "CE0";
  parameter REG_INPUTB_RST = "RST0";
  parameter REG_INPUTC_CLK = "NONE";
  parameter REG_INPUTC_CE = "CE0";
  parameter REG_INPUTC_RST = "RST0";
  parameter REG_PIPELINE_CLK = "NONE";
  parameter REG_PIPELINE_CE = "CE0";
  parameter REG_PIPELINE_RST = "RST0";
  parameter REG_OUTPUT_CLK = "NONE";
  parameter REG_OUTPUT_CE = "CE0";
  parameter REG_OUTPUT_RST = "RST0";
  parameter CLK0_DIV = "ENABLED";
  parameter CLK1_DIV = "ENABLED";
  parameter CLK2_DIV = "ENABLED";
  parameter CLK3_DIV = "ENABLED";
  parameter HIGHSPEED_CLK = "NONE";
  parameter GSR = "ENABLED";
  parameter CAS_MATCH_REG = "FALSE";
  parameter SOURCEB_MODE = "B_SHIFT";
  parameter MULT_BYPASS = "DISABLED";
  parameter RESETMODE = "SYNC";

  // Which registers are on, and the index of each one's clock enable and reset.
  localparam IA_ON = REG_INPUTA_CLK == "CLK0";
  localparam IB_ON = REG_INPUTB_CLK == "CLK0";
  localparam PL_ON = REG_PIPELINE_CLK == "CLK0";
  localparam OUT_ON = REG_OUTPUT_CLK == "CLK0";
  localparam integer IA_CE = REG_INPUTA_CE == "CE1" ? 1 : REG_INPUTA_CE == "CE2" ? 2 : REG_INPUTA_CE == "CE3" ? 3 : 0;
  localparam integer IB_CE = REG_INPUTB_CE == "CE1" ? 1 : REG_INPUTB_CE == "CE2" ? 2 : REG_INPUTB_CE == "CE3" ? 3 : 0;
  localparam integer PL_CE = REG_PIPELINE_CE == "CE1" ? 1 : REG_PIPELINE_CE == "CE2" ? 2 : REG_PIPELINE_CE == "CE3" ? 3 : 0;
  localparam integer OUT_CE = REG_OUTPUT_CE == "CE1" ? 1 : REG_OUTPUT_CE == "CE2" ? 2 : REG_OUTPUT_CE == "CE3" ? 3 : 0;
  localparam integer IA_RST = REG_INPUTA_RST == "RST1" ? 1 : REG_INPUTA_RST == "RST2" ? 2 : REG_INPUTA_RST == "RST3" ? 3 : 0;
  localparam integer IB_RST = REG_INPUTB_RST == "RST1" ? 1 : REG_INPUTB_RST == "RST2" ? 2 : REG_INPUTB_RST == "RST3" ? 3 : 0;
  localparam integer PL_RST = REG_PIPELINE_RST == "RST1" ? 1 : REG_PIPELINE_RST == "RST2" ? 2 : REG_PIPELINE_RST == "RST3" ? 3 : 0;
  localparam integer OUT_RST = REG_OUTPUT_RST == "RST1" ? 1 : REG_OUTPUT_RST == "RST2" ? 2 : REG_OUTPUT_RST == "RST3" ? 3 : 0;

  // Settings outside the modelled subset stop elaboration.
  generate
    if (!(IA_ON || REG_INPUTA_CLK == "NONE")) begin : bad_a
      MULT18X18D_model_supports_only_CLK0_or_NONE_for_REG_INPUTA_CLK unsupported();
    end
    if (!(IB_ON || REG_INPUTB_CLK == "NONE")) begin : bad_b
      MULT18X18D_model_supports_only_CLK0_or_NONE_for_REG_INPUTB_CLK unsupported();
    end
    if (!(PL_ON || REG_PIPELINE_CLK == "NONE")) begin : bad_pl
      MULT18X18D_model_supports_only_CLK0_or_NONE_for_REG_PIPELINE_CLK unsupported();
    end
    if (!(OUT_ON || REG_OUTPUT_CLK == "NONE")) begin : bad_out
      MULT18X18D_model_supports_only_CLK0_or_NONE_for_REG_OUTPUT_CLK unsupported();
    end
    if (REG_INPUTC_CLK != "NONE") begin : bad_c
      MULT18X18D_model_supports_only_NONE_for_REG_INPUTC_CLK unsupported();
    end
    if (RESETMODE != "SYNC") begin : bad_reset
      MULT18X18D_model_supports_only_RESETMODE_SYNC unsupported();
    end
    if (MULT_BYPASS != "DISABLED" || HIGHSPEED_CLK != "NONE" || CAS_MATCH_REG != "FALSE") begin : bad_mode
      MULT18X18D_model_supports_only_the_default_MULT_BYPASS_HIGHSPEED_CLK_CAS_MATCH_REG unsupported();
    end
  endgenerate

  wire [17:0] a = {A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1, A0};
  wire [17:0] b = {B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1, B0};
  wire [17:0] c = {C17, C16, C15, C14, C13, C12, C11, C10, C9, C8, C7, C6, C5, C4, C3, C2, C1, C0};
  wire [3:0] ce = {CE3, CE2, CE1, CE0};
  wire [3:0] rst = {RST3, RST2, RST1, RST0};

  // Input registers.
  reg [17:0] a_q;
  reg sa_q;
  reg [17:0] b_q;
  reg sb_q;
  always @(posedge CLK0)
    if (rst[IA_RST]) begin
      a_q <= 18'd0;
      sa_q <= 1'b0;
    end else if (ce[IA_CE]) begin
      a_q <= a;
      sa_q <= SIGNEDA;
    end
  always @(posedge CLK0)
    if (rst[IB_RST]) begin
      b_q <= 18'd0;
      sb_q <= 1'b0;
    end else if (ce[IB_CE]) begin
      b_q <= b;
      sb_q <= SIGNEDB;
    end
  wire [17:0] a_m = IA_ON ? a_q : a;
  wire sa_m = IA_ON ? sa_q : SIGNEDA;
  wire [17:0] b_m = IB_ON ? b_q : b;
  wire sb_m = IB_ON ? sb_q : SIGNEDB;

  // The multiplier: each operand extended by one bit (its sign bit when signed, else 0), so one
  // signed 19 x 19 multiply covers every sign mode; the 36 low bits are exact.
  wire signed [18:0] a_x = {sa_m & a_m[17], a_m};
  wire signed [18:0] b_x = {sb_m & b_m[17], b_m};
  wire signed [37:0] prod = a_x * b_x;
  wire [35:0] m = prod[35:0];
  wire sp_m = sa_m | sb_m;

  // Pipeline register.
  reg [35:0] pl_q;
  reg spl_q;
  always @(posedge CLK0)
    if (rst[PL_RST]) begin
      pl_q <= 36'd0;
      spl_q <= 1'b0;
    end else if (ce[PL_CE]) begin
      pl_q <= m;
      spl_q <= sp_m;
    end
  wire [35:0] pl_m = PL_ON ? pl_q : m;
  wire spl_m = PL_ON ? spl_q : sp_m;

  // Output register.
  reg [35:0] out_q;
  reg sout_q;
  always @(posedge CLK0)
    if (rst[OUT_RST]) begin
      out_q <= 36'd0;
      sout_q <= 1'b0;
    end else if (ce[OUT_CE]) begin
      out_q <= pl_m;
      sout_q <= spl_m;
    end
  wire [35:0] p = OUT_ON ? out_q : pl_m;

  assign {P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20, P19, P18, P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2, P1, P0} = p;
  assign SIGNEDP = OUT_ON ? sout_q : spl_m;
  assign {ROA17, ROA16, ROA15, ROA14, ROA13, ROA12, ROA11, ROA10, ROA9, ROA8, ROA7, ROA6, ROA5, ROA4, ROA3, ROA2, ROA1, ROA0} = a_m;
  assign {ROB17, ROB16, ROB15, ROB14, ROB13, ROB12, ROB11, ROB10, ROB9, ROB8, ROB7, ROB6, ROB5, ROB4, ROB3, ROB2, ROB1, ROB0} = b_m;
  assign {ROC17, ROC16, ROC15, ROC14, ROC13, ROC12, ROC11, ROC10, ROC9, ROC8, ROC7, ROC6, ROC5, ROC4, ROC3, ROC2, ROC1, ROC0} = c;
  assign {SROA17, SROA16, SROA15, SROA14, SROA13, SROA12, SROA11, SROA10, SROA9, SROA8, SROA7, SROA6, SROA5, SROA4, SROA3, SROA2, SROA1, SROA0} = a_m;
  assign {SROB17, SROB16, SROB15, SROB14, SROB13, SROB12, SROB11, SROB10, SROB9, SROB8, SROB7, SROB6, SROB5, SROB4, SROB3, SROB2, SROB1, SROB0} = b_m;
endmodule
