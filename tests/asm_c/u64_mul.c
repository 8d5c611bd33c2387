unsigned long long mul64(unsigned long long a, unsigned long long b) { return a * b; }
unsigned long long shl64(unsigned long long a, int n) { return a << n; }
long long neg64(long long a) { return -a; }
