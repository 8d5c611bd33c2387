static int twice(int x) { return 2 * x; }
static int square(int x) { return x * x; }
static int (*const ops[])(int) = { twice, square };
int apply(int k, int x) { return ops[k & 1](x); }
