# sealed-measure extras (see docs/measure.md).
#   make fuzz-measure [FUZZ_SECONDS=60]  libFuzzer (clang) on the event-log, OVMF and PE parsers,
#                                         seeded with tests/measure/fuzz/corpus and the shared testdata
#   make ovmf-amdsev                      edk2 AmdSevX64 firmware from Debian's pinned edk2 source
#   make measure-manifest KERNEL=... INITRD=... APPEND=...
#                                         expected measurements for build-manifest.json
MEASURE_FUZZ  := tpm_eventlog ovmf pe
MEASURE_FUZZ_SRC_tpm_eventlog := src/common/tpm_eventlog.c
MEASURE_FUZZ_SRC_ovmf := src/measure/launch.c src/measure/ovmf.c src/measure/sev_hashes.c \
                         src/measure/snp_gctx.c src/measure/vmsa.c src/measure/measure.c \
                         src/common/file.c src/common/dynbuf.c
MEASURE_FUZZ_SRC_pe   := src/measure/pe_hash.c src/measure/pcr_predict.c src/measure/measure.c \
                         src/common/tpm_eventlog.c src/common/file.c src/common/dynbuf.c
MEASURE_FUZZ_SEEDS_tpm_eventlog := ../shared/testdata/tpm-eventlogs-go-eventlog/tpm
MEASURE_FUZZ_SEEDS_ovmf := ../shared/testdata/snp-measure-sev-snp-measure/fixtures
MEASURE_FUZZ_SEEDS_pe   :=

.PHONY: fuzz-measure ovmf-amdsev measure-manifest
fuzz-measure:
	@mkdir -p $(BUILD)/fuzz
	@for t in $(MEASURE_FUZZ); do \
	    case $$t in tpm_eventlog) src="$(MEASURE_FUZZ_SRC_tpm_eventlog)"; seeds="$(MEASURE_FUZZ_SEEDS_tpm_eventlog)";; \
	                ovmf) src="$(MEASURE_FUZZ_SRC_ovmf)"; seeds="$(MEASURE_FUZZ_SEEDS_ovmf)";; \
	                pe) src="$(MEASURE_FUZZ_SRC_pe)"; seeds="$(MEASURE_FUZZ_SEEDS_pe)";; esac; \
	    clang -g -O1 -std=c11 -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined \
	        -o $(BUILD)/fuzz/fuzz_$$t tests/measure/fuzz/fuzz_$$t.c $$src -lcrypto || exit 1; \
	    mkdir -p $(BUILD)/fuzz/corpus_$$t; \
	    echo "fuzz_$$t: $(FUZZ_SECONDS)s"; \
	    $(BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	        $(BUILD)/fuzz/corpus_$$t tests/measure/fuzz/corpus/$$t $$seeds 2>&1 | tail -3 || exit 1; \
	done

ovmf-amdsev:
	scripts/ovmf-amdsev.sh $(BUILD)/measure      # edk2 tree in $${OVMF_WORKDIR:-/var/tmp/sealed-ovmf}

measure-manifest: $(BUILD)/sealed-measure
	scripts/measure-manifest.sh --ovmf $(BUILD)/measure/OVMF.amdsev.fd \
	    $(if $(KERNEL),--kernel $(KERNEL)) $(if $(INITRD),--initrd $(INITRD)) \
	    $(if $(APPEND),--append "$(APPEND)") $(if $(EFI),--efi $(EFI))
