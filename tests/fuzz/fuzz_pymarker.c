/*
 * fuzz_pymarker.c - PEP 508 markers: parse the input and evaluate it for a
 * target and for an environment that knows every variable.  Evaluation is
 * deterministic and messages stay on one line.
 */
#include "fuzz.h"

#include "derrick/pymarkers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct dk_pymarker *m;
	struct dk_pytarget t;
	struct dk_platform plat;
	struct dk_pyenv env, full;
	struct dk_err err;
	int r1, r2, rc1, rc2;

	if (dk_platform_parse("linux/arm64", &plat, &err) < 0 ||
	    dk_pytarget_init(&t, "3.12.1", "glibc 2.36", &plat, &err) < 0)
		abort();
	if (dk_pymarker_parse(s, &m, &err) < 0) {
		if (strchr(err.msg, '\n'))
			abort();
		free(s);
		return 0;
	}
	dk_pyenv_target(&env, &t, "Test.Extra");
	dk_pyenv_target(&full, &t, NULL);
	full.value[DK_PYVAR_PLATFORM_RELEASE] = "6.1.0-13-amd64";
	full.value[DK_PYVAR_PLATFORM_VERSION] = "#1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 (2023-09-29)";
	rc1 = dk_pymarker_eval(m, &env, &r1, &err);
	if (rc1 < 0 && strchr(err.msg, '\n'))
		abort();
	rc2 = dk_pymarker_eval(m, &env, &r2, &err);
	if (rc1 != rc2 || (rc1 == 0 && r1 != r2))
		abort();
	if (dk_pymarker_eval(m, &full, &r1, &err) < 0 && strchr(err.msg, '\n'))
		abort();
	dk_pymarker_free(m);
	free(s);
	return 0;
}
