static const char *const names[] = { "zero", "one", "two", "three", "four" };
const char *name_of(unsigned n) { return n < 5 ? names[n] : "many"; }
