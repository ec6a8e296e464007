# tests/fuzz/fuzz.mk - the libFuzzer targets, built apart from the normal
# build: `make fuzz` (Makefile.am) runs this with the library's sources,
# include flags and libraries, and everything lands in $(OUT) (build-fuzz/),
# compiled again with clang, libFuzzer's coverage and ASan+UBSan.
CLANG ?= clang
TARGETS = spec ref ignore challenge token image authfile tar tarread archive wheel pyversion pymarker wheelname deb debrelease deblock deb822 debversion
FUZZ_CFLAGS = -std=gnu11 -pthread -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Werror \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
FUZZ_LDFLAGS = -pthread -fsanitize=fuzzer,address,undefined

OBJS = $(patsubst %.c,$(OUT)/obj/%.o,$(SRCS))
BINS = $(patsubst %,$(OUT)/fuzz_%,$(TARGETS))

all: $(BINS)

$(OUT)/obj/%.o: $(SRCDIR)/%.c
	@mkdir -p $(@D)
	@echo "  CC(fuzz) $*.c"
	@$(CLANG) $(CPPFLAGS) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -MMD -MP -c $< -o $@

$(OUT)/libderrick-fuzz.a: $(OBJS)
	@rm -f $@
	@ar cr $@ $(OBJS)

$(OUT)/fuzz_%: $(SRCDIR)/tests/fuzz/fuzz_%.c $(SRCDIR)/tests/fuzz/fuzz.h $(OUT)/libderrick-fuzz.a
	@echo "  LINK(fuzz) fuzz_$*"
	@$(CLANG) $(CPPFLAGS) $(FUZZ_CFLAGS) $(PKG_CFLAGS) $< $(OUT)/libderrick-fuzz.a $(PKG_LIBS) \
		$(FUZZ_LDFLAGS) -o $@

.PHONY: all
-include $(OBJS:.o=.d)
