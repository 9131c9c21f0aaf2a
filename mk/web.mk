# The browser verifier (issue 15, docs/verify.md "In a browser"): the C verifier (every source of
# src/common and src/verify but main.c, the lists the libraries above are built from) compiled to
# WebAssembly with Debian's emscripten against OpenSSL and jansson built for wasm
# (scripts/build-wasm-deps.sh, cached), with web/verify_wasm.c as its one entry point, embedded with
# the page (web/) into one self-contained file: build/sealed-verify.html.
#   make verify-html        build it and print its sha256
#   make verify-html-release  write its sha256 into README.md and src/login/verifier_release.h

VERIFY_HTML := $(BUILD)/sealed-verify.html
WEB_BUILD   := $(BUILD)/web
EMCC        ?= emcc
# Debian's emscripten runs its JS tools with node: a Node.js not from Debian needs Debian's modules
WEB_ENV     := NODE_PATH=$(or $(NODE_PATH),/usr/share/nodejs)
# cmd_fetch is the one command that uses the network (libcurl): never in the offline page
WEB_SRC     := $(common_SRC) $(filter-out src/verify/cmd_fetch.c,$(verify_SRC)) web/verify_wasm.c
WEB_OBJ     := $(WEB_SRC:%.c=$(WEB_BUILD)/%.o)
# Fixed flags, no paths of this machine in the output (-ffile-prefix-map), no timestamps: the same
# sources give the same bytes.
WEB_CFLAGS   = -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Isrc \
               -ffile-prefix-map=$(CURDIR)=. -ffile-prefix-map=$(WEB_DEPS)=/wasm-deps -I$(WEB_DEPS)/include
WEB_LDFLAGS  = -O2 -sMODULARIZE=1 -sEXPORT_NAME=SealedVerify -sENVIRONMENT=web -sDYNAMIC_EXECUTION=0 \
               -sFILESYSTEM=1 -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=33554432 --no-entry \
               -sEXPORTED_FUNCTIONS=_sv_web_result,_malloc,_free \
               -sEXPORTED_RUNTIME_METHODS=FS,stringToUTF8,lengthBytesUTF8 -sINCOMING_MODULE_JS_API=wasmBinary,print,printErr
WEB_DEPS     = $(shell cat $(WEB_BUILD)/deps-prefix 2>/dev/null)

all: $(VERIFY_HTML)
verify-html: $(VERIFY_HTML)
.PHONY: verify-html verify-html-release

# the wasm libraries: the script decides (from its own key) whether anything needs building; the
# file changes (and the objects are rebuilt) only when the prefix does
$(WEB_BUILD)/deps-prefix: FORCE
	@mkdir -p $(@D)
	@command -v $(EMCC) >/dev/null || { echo "emcc missing: make deps (scripts/packages/verify.txt: emscripten)" >&2; exit 1; }
	@$(WEB_ENV) scripts/build-wasm-deps.sh > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@

$(WEB_BUILD)/.flags: FORCE $(WEB_BUILD)/deps-prefix
	@mkdir -p $(@D)
	@echo '$(EMCC) $(WEB_CFLAGS) $(WEB_LDFLAGS)' | cmp -s - $@ || echo '$(EMCC) $(WEB_CFLAGS) $(WEB_LDFLAGS)' > $@

# compiled by emscripten's clang with exactly the flags emcc would give it (`emcc --cflags`): the
# same objects, without emcc's start-up cost per file
$(WEB_BUILD)/%.o: %.c $(WEB_BUILD)/.flags $(WEB_BUILD)/deps-prefix
	@mkdir -p $(@D)
	clang-14 $$(cat $(WEB_DEPS)/emcc-cflags) $(WEB_CFLAGS) -MMD -MP -c -o $@ $<

$(WEB_BUILD)/sealed-verify.js: $(WEB_OBJ) $(WEB_BUILD)/.flags
	rm -f $(WEB_BUILD)/libverify-web.a
	llvm-ar-14 rcsD $(WEB_BUILD)/libverify-web.a $(filter-out $(WEB_BUILD)/web/verify_wasm.o,$(WEB_OBJ))
	$(WEB_ENV) SOURCE_DATE_EPOCH=1700000000 $(EMCC) $(WEB_LDFLAGS) -o $@ $(WEB_BUILD)/web/verify_wasm.o $(WEB_BUILD)/libverify-web.a \
	    $(WEB_DEPS)/lib/libjansson.a $(WEB_DEPS)/lib/libcrypto.a

$(VERIFY_HTML): $(WEB_BUILD)/sealed-verify.js web/verify.html web/verify.css web/verify_ui.js scripts/build-verify-html.py
	scripts/build-verify-html.py web/verify.html web/verify.css web/verify_ui.js $(WEB_BUILD)/sealed-verify.js \
	    $(WEB_BUILD)/sealed-verify.wasm $@

verify-html-release: $(VERIFY_HTML)
	scripts/verify-html-sha256.sh $(VERIFY_HTML)
