# tests/fuzz/fuzz.mk - the libFuzzer targets, built apart from the normal
# build: `make fuzz` (Makefile.am) runs this with the library's sources,
# include flags and libraries, and everything lands in $(OUT) (build-fuzz/),
# compiled again with clang, libFuzzer's coverage and ASan+UBSan.
CLANG ?= clang
CLANGXX ?= clang++
TARGETS = spec ref ignore challenge token image authfile tar tarread archive wheel pyversion pymarker wheelname \
	toml pylock requirements pyindex_json pyindex_html dpkg deb debrelease deblock deb822 debversion
FUZZ_CFLAGS = -std=gnu11 -pthread -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Werror \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_CXXFLAGS = $(filter-out -std=gnu11,$(FUZZ_CFLAGS)) -std=c++17
FUZZ_LDFLAGS = -pthread -fsanitize=fuzzer,address,undefined

OBJS = $(patsubst %.c,$(OUT)/obj/%.o,$(filter %.c,$(SRCS))) $(patsubst %.cc,$(OUT)/obj/%.o,$(filter %.cc,$(SRCS)))
BINS = $(patsubst %,$(OUT)/fuzz_%,$(TARGETS))

all: $(BINS)

$(OUT)/obj/%.o: $(SRCDIR)/%.c
	@mkdir -p $(@D)
	@echo "  CC(fuzz) $*.c"
	@$(CLANG) $(CPPFLAGS) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(OUT)/obj/%.o: $(SRCDIR)/%.cc
	@mkdir -p $(@D)
	@echo "  CXX(fuzz) $*.cc"
	@$(CLANGXX) $(CPPFLAGS) $(FUZZ_CXXFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(OUT)/libderrick-fuzz.a: $(OBJS)
	@rm -f $@
	@ar cr $@ $(OBJS)

$(OUT)/fuzz_%: $(SRCDIR)/tests/fuzz/fuzz_%.c $(SRCDIR)/tests/fuzz/fuzz.h $(SRCDIR)/tests/fuzz/pyindex_check.h $(OUT)/libderrick-fuzz.a
	@echo "  LINK(fuzz) fuzz_$*"
	@$(CLANG) $(CPPFLAGS) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -c $< -o $(OUT)/obj/fuzz_$*.o
	@# linked as C++: the library has one C++ file (src/python/toml.cc), which needs the
	@# C++ runtime and UBSan's C++ half
	@$(CLANGXX) $(OUT)/obj/fuzz_$*.o $(OUT)/libderrick-fuzz.a $(PKG_LIBS) \
		$(FUZZ_LDFLAGS) -o $@

.PHONY: all
-include $(OBJS:.o=.d)
