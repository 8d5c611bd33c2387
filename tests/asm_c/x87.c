double poly(double x) { return ((2.0 * x + 3.0) * x - 1.5) * x + 0.25; }
float avg(const float *v, int n) { float s = 0; for (int i = 0; i < n; i++) s += v[i]; return n ? s / n : 0; }
long double ld_mul(long double a, long double b) { return a * b; }
