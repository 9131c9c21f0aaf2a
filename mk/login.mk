# login extras: libFuzzer targets for the service's parsers (clang, ASan + UBSan).
#   make fuzz-login [FUZZ_SECONDS=60]
LOGIN_FUZZ := http_parse state proxy_v2
.PHONY: fuzz-login fuzz-login-bins
fuzz-login-bins: $(LOGIN_FUZZ:%=$(BUILD)/fuzz/login_%)
$(BUILD)/fuzz/login_http_parse: tests/login/fuzz/fuzz_http_parse.c src/login/http_parse.c src/common/codec.c
	@mkdir -p $(@D)
	clang -g -O1 -std=c11 -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -o $@ $^
$(BUILD)/fuzz/login_state: tests/login/fuzz/fuzz_state.c src/login/state_store.c src/login/log.c \
    src/login/acme/acme_persist.c src/login/acme/acme_parse.c src/login/acme/acme_log.c src/common/codec.c
	@mkdir -p $(@D)
	clang -g -O1 -std=c11 -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -o $@ $^ -ljansson -lcrypto
$(BUILD)/fuzz/login_proxy_v2: tests/login/fuzz/fuzz_proxy_v2.c src/login/proxy_v2.c
	@mkdir -p $(@D)
	clang -g -O1 -std=c11 -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -o $@ $^
fuzz-login: fuzz-login-bins
	@for t in $(LOGIN_FUZZ); do mkdir -p $(BUILD)/fuzz/corpus_login_$$t; \
	    $(BUILD)/fuzz/login_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=12000 \
	        $(BUILD)/fuzz/corpus_login_$$t tests/login/fuzz/corpus/$$t 2>&1 | tail -2 || exit 1; done
