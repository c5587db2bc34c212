# fmsp build. `make` builds the CLI, the sandbox worker, tests and benches;
# `make test` runs every test; `make SAN=1 test` does it under ASan+UBSan
# (the sandbox worker is always built without sanitizers: their shadow
# memory cannot live under the worker's memory limit and seccomp filter).
# Sources are picked up by folder, so adding a module needs no edit here.

CC ?= gcc
WERROR ?= -Werror
CFLAGS_BASE = -std=c11 -D_GNU_SOURCE -DFMSP_HOST -Wall -Wextra -Wshadow -Wpointer-arith \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter \
	-Wno-format-truncation $(WERROR) \
	-Iinclude -Isrc -g
LIBS = -lseccomp -lcurl -ljansson -lsqlite3 -lpthread -ldl -lm

ifeq ($(SAN),1)
BUILD ?= build-san
OPT = -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
else
BUILD ?= build
OPT = -O2
endif
CFLAGS = $(CFLAGS_BASE) $(OPT)

# fmsp-worker: the jail (worker_main.c) and each domain's adapter.
WORKER_SRC = src/sandbox/worker_main.c src/sandbox/seccomp_policy.c $(wildcard src/domains/*/worker_*.c)
LIB_SRC = $(filter-out src/cli/% src/sandbox/worker_main.c $(wildcard src/domains/*/worker_*.c),\
	$(wildcard src/*/*.c src/*/*/*.c))
LIB_OBJ = $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIB_SRC)) $(BUILD)/obj/gen/docs.o \
	$(BUILD)/obj/gen/report_assets.o
CLI_SRC = $(wildcard src/cli/*.c)
CLI_OBJ = $(patsubst src/%.c,$(BUILD)/obj/%.o,$(CLI_SRC))
TEST_SRC = $(wildcard tests/test_*.c)
TEST_BIN = $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
SUPPORT_SRC = $(wildcard tests/support/*.c)
SUPPORT_BIN = $(patsubst tests/support/%.c,$(BUILD)/tests/support/%,$(SUPPORT_SRC))
BENCH_SRC = $(wildcard bench/bench_*.c)
BENCH_BIN = $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
HEADERS = $(wildcard include/*.h src/*/*.h src/*/*/*.h tests/*.h)

.PHONY: all test bench clean format
all: $(BUILD)/fmsp $(BUILD)/fmsp-worker $(TEST_BIN) $(SUPPORT_BIN) $(BENCH_BIN)

$(BUILD)/obj/%.o: src/%.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# The policy-writing guides are built into the binary: they are part of every prompt.
$(BUILD)/gen/docs.c: scripts/embed-text.sh $(wildcard docs/writing-policies.md docs/writing-gandalf-policies.md)
	@mkdir -p $(dir $@)
	sh scripts/embed-text.sh fmsp_doc_writing_policies docs/writing-policies.md > $@
	sh scripts/embed-text.sh fmsp_doc_writing_gandalf docs/writing-gandalf-policies.md >> $@

$(BUILD)/obj/gen/docs.o: $(BUILD)/gen/docs.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-missing-variable-declarations -c $< -o $@

# The report page's scripts and styles (its own and the vendored uPlot) are
# built in too, so `fmsp report` writes a self-contained page from anywhere.
REPORT_ASSETS = vendor/uplot/uPlot.iife.min.js vendor/uplot/uPlot.min.css \
	src/report/assets/report.js src/report/assets/report.css
$(BUILD)/gen/report_assets.c: scripts/embed-text.sh $(wildcard $(REPORT_ASSETS))
	@mkdir -p $(dir $@)
	sh scripts/embed-text.sh fmsp_asset_uplot_js vendor/uplot/uPlot.iife.min.js > $@
	sh scripts/embed-text.sh fmsp_asset_uplot_css vendor/uplot/uPlot.min.css >> $@
	sh scripts/embed-text.sh fmsp_asset_report_js src/report/assets/report.js >> $@
	sh scripts/embed-text.sh fmsp_asset_report_css src/report/assets/report.css >> $@

$(BUILD)/obj/gen/report_assets.o: $(BUILD)/gen/report_assets.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-missing-variable-declarations -c $< -o $@

$(BUILD)/libfmsp.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/fmsp: $(CLI_OBJ) $(BUILD)/libfmsp.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libfmsp.a $(LIBS)

# The worker: small, no sanitizers, linked with libm so that a policy's
# libm dependency is satisfied without opening a file after the sandbox is up.
$(BUILD)/fmsp-worker: $(WORKER_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -O2 -o $@ $(WORKER_SRC) \
		-rdynamic -Wl,--no-as-needed -lseccomp -ldl -lm

$(BUILD)/tests/%: tests/%.c $(BUILD)/libfmsp.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libfmsp.a $(LIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libfmsp.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libfmsp.a $(LIBS)

test: all
	BUILD=$(BUILD) sh tests/run.sh

bench: all
	BUILD=$(BUILD) sh bench/run.sh

format:
	clang-format -i $(wildcard include/*.h src/*/*.[ch] tests/*.[ch] tests/support/*.c bench/*.c)

clean:
	rm -rf build build-san

# Fuzz targets (libFuzzer, clang): `make fuzz`, then e.g.
#   build-fuzz/fuzz_scan -max_total_time=60
# (fuzz_genome goes deeper from a corpus of builtin policies: `fmsp export DB DIR`,
# then build-fuzz/fuzz_genome DIR).
# They cover every parser of untrusted input: policy sources, model answers,
# compiled objects, code to embed, genome lines of parent sources, and the
# Gandalf text the referee reads (replies and prompts an attacker shapes).
FUZZ_SRC = $(wildcard fuzz/fuzz_*.c)
FUZZ_LIB_SRC = src/core/err.c src/core/util.c src/core/fieldgenome.c src/sandbox/scan.c \
	src/sandbox/elfcheck.c \
	src/fm/extract.c src/fm/embed.c src/domains/cartag/genome.c \
	src/domains/gandalf/simtarget.c src/domains/gandalf/benign.c src/domains/gandalf/words.c \
	src/domains/gandalf/operator.c src/domains/gandalf/operator_attack.c \
	src/domains/gandalf/operator_defend.c src/domains/gandalf/guess.c
.PHONY: fuzz
fuzz:
	@mkdir -p build-fuzz
	for f in $(FUZZ_SRC); do \
		clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -DFMSP_HOST -Iinclude -Isrc \
			-o build-fuzz/$$(basename $$f .c) $$f $(FUZZ_LIB_SRC) -lm || exit 1; \
	done
