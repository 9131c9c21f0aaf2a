# libFuzzer targets (clang -fsanitize=fuzzer,address,undefined), one rule for all of them.
# Layout: fuzz/<dir>/<module>.c fuzzes src/<dir>/<module>.c (fuzz/<dir>/<module>_<entry>.c when a
# module has a second target), its seed corpus is fuzz/<dir>/<module>.corpus/. A target's name is its
# file name (`make fuzz-snp_report`); names are unique.
#   make fuzz                  every target for FUZZ_SECONDS each (the Makefile's one default)
#   make fuzz-<name>           one target; make fuzz-bins builds them all
# tests/fuzz/test_fuzz.sh builds them here, replays each corpus and runs each a few seconds.
# The fuzzed code is compiled with the fuzzer's instrumentation: src/common/ as a whole (an archive,
# so a target links what it uses and a new module cannot break the build), plus the sources the
# table below names. A target not in the table needs src/common/ alone.
FUZZ_CC      ?= clang
FUZZ_CFLAGS   = -g -O1 -std=c11 -D_GNU_SOURCE -Isrc -Ifuzz -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=undefined -Wno-deprecated-declarations \
                $(shell pkg-config --cflags jansson libssl libcrypto libcurl 2>/dev/null)
FUZZ_LDLIBS   = $(shell pkg-config --libs jansson libssl libcrypto libcurl 2>/dev/null) -lpthread -lm
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_FILES   := $(shell find fuzz -name '*.c' | LC_ALL=C sort)
FUZZ_NAMES   := $(notdir $(FUZZ_FILES:.c=))
ifneq ($(words $(sort $(FUZZ_NAMES))),$(words $(FUZZ_NAMES)))
$(error two fuzz targets share a name: $(FUZZ_NAMES))
endif
fuzz_file = $(filter %/$(1).c,$(FUZZ_FILES))

# ---- the table: target name -> sources beyond src/common/ --------------------------------------
FUZZ_VERIFY := $(filter-out src/verify/main.c,$(sort $(wildcard src/verify/*.c)))
FUZZ_SRC_snp_report            := $(FUZZ_VERIFY)
FUZZ_SRC_snp_report_cert_table := $(FUZZ_VERIFY)
FUZZ_SRC_cmd_result            := $(FUZZ_VERIFY)
FUZZ_SRC_tdx_quote             := $(FUZZ_VERIFY)
FUZZ_SRC_acme_parse   := src/login/acme/acme_parse.c src/login/acme/acme_problem.c src/login/acme/acme_log.c src/login/log.c
FUZZ_SRC_acme_persist := src/login/acme/acme_persist.c src/login/acme/acme_parse.c src/login/acme/acme_log.c src/login/log.c
FUZZ_SRC_state_store  := src/login/state_store.c src/login/log.c
FUZZ_SRC_http_parse   := src/login/http_parse.c
FUZZ_SRC_proxy_v2     := src/login/proxy_v2.c
FUZZ_SRC_tls_record   := src/login/tls_record.c
FUZZ_SRC_tpm2         := src/login/attest/tpm2.c src/login/attest/tpm2_wire.c src/login/attest/attest_util.c src/login/log.c
FUZZ_SRC_init_cmdline := src/init/init_cmdline.c
FUZZ_SRC_init_modlist := src/init/init_modlist.c
FUZZ_MEASURE := src/measure/measure.c src/measure/launch.c src/measure/ovmf.c src/measure/sev_hashes.c \
                src/measure/snp_gctx.c src/measure/vmsa.c src/measure/pe_hash.c src/measure/pcr_predict.c
FUZZ_SRC_ovmf         := $(FUZZ_MEASURE)
FUZZ_SRC_pe_hash      := $(FUZZ_MEASURE)
# libFuzzer options per target (default: libFuzzer's input size, the larger of 4 KiB and the biggest seed)
FUZZ_OPTS            := -rss_limit_mb=1024 -timeout=20
FUZZ_OPTS_tpm2       := -max_len=16384 -rss_limit_mb=1024 -timeout=60 -report_slow_units=60
FUZZ_OPTS_ovmf       := -max_len=65536 -rss_limit_mb=1024 -timeout=20
FUZZ_OPTS_pe_hash    := -max_len=65536 -rss_limit_mb=1024 -timeout=20
# seeds outside the tree, read if present (../shared/testdata: too large or too many to commit)
FUZZ_SEEDS_snp_report            := ../shared/testdata/snp-reports-go-sev-guest
FUZZ_SEEDS_snp_report_cert_table := ../shared/testdata/snp-reports-virtee-sev
FUZZ_SEEDS_tpm_eventlog          := ../shared/testdata/tpm-eventlogs-go-eventlog/tpm
FUZZ_SEEDS_ovmf                  := ../shared/testdata/snp-measure-sev-snp-measure/fixtures
FUZZ_SEEDS_sd_jwt                := tests/verify/rfc9901
# ---- end of table ----------------------------------------------------------------------------

FUZZ_COMMON_OBJ := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(sort $(wildcard src/common/*.c)))
$(FUZZ_DIR)/libcommon.a: $(FUZZ_COMMON_OBJ)
	rm -f $@ && ar rcs $@ $^
$(FUZZ_DIR)/.flags: FORCE
	@mkdir -p $(@D)
	@echo '$(FUZZ_CC) $(FUZZ_CFLAGS)' | cmp -s - $@ || echo '$(FUZZ_CC) $(FUZZ_CFLAGS)' > $@
$(FUZZ_DIR)/obj/%.o: %.c $(FUZZ_DIR)/.flags
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(DEPFLAGS) -c -o $@ $<

define fuzz_target
$(FUZZ_DIR)/$(1): $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(call fuzz_file,$(1))) $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_SRC_$(1))) $(FUZZ_DIR)/libcommon.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $$@ $$^ $(FUZZ_LDLIBS)
fuzz-$(1): $(FUZZ_DIR)/$(1)
	@mkdir -p $(FUZZ_DIR)/corpus/$(1)
	@echo "fuzz: $(1) for $(FUZZ_SECONDS)s"
	$(FUZZ_DIR)/$(1) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 $(or $(FUZZ_OPTS_$(1)),$(FUZZ_OPTS)) \
	    -artifact_prefix=$(FUZZ_DIR)/$(1)- $(FUZZ_DIR)/corpus/$(1) $(patsubst %.c,%.corpus,$(call fuzz_file,$(1))) \
	    $(wildcard $(FUZZ_SEEDS_$(1)))
.PHONY: fuzz-$(1)
endef
$(foreach t,$(FUZZ_NAMES),$(eval $(call fuzz_target,$(t))))

fuzz-bins: $(FUZZ_NAMES:%=$(FUZZ_DIR)/%)
fuzz: $(FUZZ_NAMES:%=fuzz-%)
# One line per target for tests/fuzz/test_fuzz.sh: name|source|seeds outside the tree|options
fuzz-list:
	@$(foreach t,$(FUZZ_NAMES),echo '$(t)|$(call fuzz_file,$(t))|$(wildcard $(FUZZ_SEEDS_$(t)))|$(or $(FUZZ_OPTS_$(t)),$(FUZZ_OPTS))';)
.PHONY: fuzz fuzz-bins fuzz-list
