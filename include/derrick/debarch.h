/* SHIM: replaced by the deblockmake branch */
#ifndef DERRICK_DEBARCH_H
#define DERRICK_DEBARCH_H
struct dk_platform;
const char *dk_deb_arch(const struct dk_platform *p);
#endif
