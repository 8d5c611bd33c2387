int lead0(unsigned x) { return x ? __builtin_clz(x) : 32; }
int trail0(unsigned x) { return x ? __builtin_ctz(x) : 32; }
int ffs_(int x) { return __builtin_ffs(x); }
