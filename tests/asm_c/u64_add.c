unsigned long long add64(unsigned long long a, unsigned long long b) { return a + b; }
int cmp64(long long a, long long b) { return a < b ? -1 : a > b; }
