unsigned div10(unsigned x) { return x / 10; }
int mod7(int x) { return x % 7; }
unsigned long long shr64(unsigned long long x, unsigned n) { return x >> (n & 63); }
