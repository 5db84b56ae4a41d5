# lask - plain Makefile. `make help` lists the targets.
#
#   make              build build/lask, build/lask.so, build/liblask.{a,so}
#   make test         install what is missing, build, run every test
#   make demo         install what is missing, build, run examples/demo.lua
#   make SAN=asan     the same targets with AddressSanitizer + UBSan (build-asan/)
#   make SAN=tsan     ... with ThreadSanitizer (build-tsan/)
#   make PORTABLE=1   no -march=native (binaries for other machines)
#   make fuzz         run each libFuzzer target tests/fuzz/fuzz_*.c for FUZZ_TIME s

CC      ?= gcc
PREFIX  ?= /usr/local
SAN     ?=

ifeq ($(PORTABLE),1)
ARCH :=
else
ARCH := -march=native
endif

ifeq ($(SAN),asan)
BUILD   ?= build-asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT     := -O1
else ifeq ($(SAN),tsan)
BUILD   ?= build-tsan
SANFLAGS := -fsanitize=thread
OPT     := -O1
else
BUILD   ?= build
SANFLAGS :=
OPT     := -O2
endif

LUA_INC   := -I/usr/include/lua5.4
BLAS_INC  := -I/usr/include/x86_64-linux-gnu/openblas-pthread
CFLAGS    ?= $(OPT) -g $(ARCH)
ALL_CFLAGS = -std=c11 -Wall -Wextra -Werror -fPIC -D_GNU_SOURCE -pthread \
             -Iruntime $(BLAS_INC) $(SANFLAGS) $(CFLAGS)
RT_LIBS   := -lopenblas -lcsv -lzstd -lsnappy -llz4 -lbrotlidec -lz -lm -lpthread
LDFLAGS   += $(SANFLAGS) -L/usr/lib/x86_64-linux-gnu/openblas-pthread

RT_SRC    := $(sort $(wildcard runtime/*.c))
LUA_SRC   := $(sort $(filter-out lua/main.c,$(wildcard lua/*.c)))
# The one C++ file: lask.core.json on simdjson (Debian has no C JSON parser
# of its speed); it exports only a C Lua module.
LUA_CXX   := $(sort $(wildcard lua/*.cc))
CXXFLAGS_ALL = -std=c++17 -Wall -Wextra -Werror -fPIC -fno-exceptions -fno-rtti -D_GNU_SOURCE \
             $(SANFLAGS) $(CFLAGS)
LUA_LIBS  := -lsimdjson -lstdc++ -ldl
STDLIB    := $(sort $(shell find stdlib -name '*.lua' 2>/dev/null))
CTESTS    := $(sort $(wildcard tests/c/test_*.c))

RT_OBJ    := $(RT_SRC:%.c=$(BUILD)/%.o)
LUA_OBJ   := $(LUA_SRC:%.c=$(BUILD)/%.o) $(LUA_CXX:%.cc=$(BUILD)/%.o) $(BUILD)/stdlib_embed.o
CTEST_BIN := $(CTESTS:tests/c/%.c=$(BUILD)/tests/%)

all: $(BUILD)/liblask.a $(BUILD)/liblask.so $(BUILD)/lask.so $(BUILD)/lask $(BUILD)/lask.h.cdef

$(BUILD)/runtime/%.o: runtime/%.c $(wildcard runtime/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/lua/%.o: lua/%.c $(wildcard lua/*.h) $(wildcard runtime/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LUA_INC) -Ilua -c $< -o $@

$(BUILD)/lua/%.o: lua/%.cc $(wildcard lua/*.h)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS_ALL) $(LUA_INC) -Ilua -c $< -o $@

# The stdlib is compiled into the module, so `require "lask"` needs only lask.so.
$(BUILD)/stdlib_embed.c: tools/embed.lua $(STDLIB)
	@mkdir -p $(dir $@)
	lua5.4 tools/embed.lua $@ $(STDLIB)

$(BUILD)/stdlib_embed.o: $(BUILD)/stdlib_embed.c
	$(CC) $(ALL_CFLAGS) $(LUA_INC) -c $< -o $@

$(BUILD)/liblask.a: $(RT_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/liblask.so: $(RT_OBJ)
	$(CC) -shared -o $@ $^ $(LDFLAGS) $(RT_LIBS)

# The Lua module: the host (lua5.4) provides the Lua API symbols.
$(BUILD)/lask.so: $(RT_OBJ) $(LUA_OBJ)
	$(CC) -shared -o $@ $^ $(LDFLAGS) $(RT_LIBS) $(LUA_LIBS)

$(BUILD)/lask: lua/main.c $(RT_OBJ) $(LUA_OBJ)
	$(CC) $(ALL_CFLAGS) $(LUA_INC) -Ilua -o $@ $^ $(LDFLAGS) -llua5.4 -lreadline $(RT_LIBS) $(LUA_LIBS) -Wl,-E

$(BUILD)/lask.h.cdef: runtime/lask.h tools/cdef.sh
	sh tools/cdef.sh runtime/lask.h > $@

$(BUILD)/tests/%: tests/c/%.c tests/c/harness.h $(BUILD)/liblask.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/c -o $@ $< $(BUILD)/liblask.a $(LDFLAGS) $(RT_LIBS)

$(BUILD)/embed_host: examples/embed/host.c $(RT_OBJ) $(LUA_OBJ)
	$(CC) $(ALL_CFLAGS) $(LUA_INC) -Ilua -o $@ $^ $(LDFLAGS) -llua5.4 $(RT_LIBS) $(LUA_LIBS)

ctests: $(CTEST_BIN)

# libFuzzer targets (clang): each tests/fuzz/fuzz_X.c links the runtime and
# starts from the seeds in tests/fuzz/corpus/X; new inputs go to build-fuzz/.
FUZZ_TIME ?= 20
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN  := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
FUZZ_FLAGS := -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
              -D_GNU_SOURCE -pthread \
              -Iruntime $(BLAS_INC) -DLASK__PQ_MAX_ROWS=1000000 -DLASK__PQ_MAX_PAGE=16777216

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(RT_SRC) $(wildcard runtime/*.h)
	@mkdir -p build-fuzz
	clang $(FUZZ_FLAGS) -o $@ $< $(RT_SRC) -L/usr/lib/x86_64-linux-gnu/openblas-pthread $(RT_LIBS)

# seeds: tests/fuzz/corpus/X or tests/fuzz/X_corpus
fuzz: $(FUZZ_BIN)
	@for b in $(FUZZ_BIN); do n=$${b#build-fuzz/fuzz_}; mkdir -p build-fuzz/corpus-$$n; \
	  seeds=""; for d in tests/fuzz/corpus/$$n tests/fuzz/$${n}_corpus; do [ -d $$d ] && seeds="$$seeds $$d"; done; \
	  echo "== $$b ($(FUZZ_TIME) s)"; \
	  $$b -max_total_time=$(FUZZ_TIME) -rss_limit_mb=1536 -timeout=10 build-fuzz/corpus-$$n $$seeds || exit 1; done


deps:
	@sh tools/deps.sh

# The DuckDB interop test needs the npm package; it is fetched when npm exists
# (and the test is reported skipped when it cannot be had).
test: deps
	@if command -v npm >/dev/null 2>&1 && [ ! -d bench/.deps/node_modules/@duckdb/node-api ]; then \
	  $(MAKE) --no-print-directory bench-deps; fi
	@$(MAKE) --no-print-directory all ctests $(BUILD)/embed_host
	@BUILD=$(BUILD) SAN=$(SAN) sh tools/run_tests.sh

demo: deps
	@$(MAKE) --no-print-directory all
	$(BUILD)/lask examples/demo.lua

bench: all
	@for b in bench/*.lua; do echo "== $$b"; $(BUILD)/lask $$b || exit 1; done

# DuckDB for the data frame benchmark's comparison (git-ignored bench/.deps).
bench-deps:
	@mkdir -p bench/.deps && (cd bench/.deps && npm install --no-audit --no-fund --silent @duckdb/node-api >/dev/null 2>&1 \
	  && echo "duckdb: installed in bench/.deps") || echo "duckdb: unavailable (npm install failed)"

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/lua/5.4 \
	  $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	  $(DESTDIR)$(PREFIX)/share/lua/5.4
	install -m 755 $(BUILD)/lask $(DESTDIR)$(PREFIX)/bin/lask
	install -m 644 $(BUILD)/lask.so $(DESTDIR)$(PREFIX)/lib/lua/5.4/lask.so
	install -m 644 $(BUILD)/liblask.a $(BUILD)/liblask.so $(DESTDIR)$(PREFIX)/lib/
	install -m 644 runtime/lask.h $(DESTDIR)$(PREFIX)/include/lask.h
	cp -r stdlib/lask $(DESTDIR)$(PREFIX)/share/lua/5.4/
	sed -e 's|@PREFIX@|$(PREFIX)|' tools/lask.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/lask.pc

clean:
	rm -rf build build-asan build-tsan build-fuzz

help:
	@sed -n '3,10p' Makefile

.PHONY: all ctests deps test demo bench bench-deps install clean help fuzz
